package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
)

// Autosave keeps what an author is typing without making a revision per
// pause: the form goes into admin_autosaves, one document per article and
// user (_id "<article>/<user>", so every write is by _id), and the editor
// offers it back when it is newer than the article. Saving drops it.
type autosaves struct {
	coll *mongo.Collection
	now  func() time.Time
}

type autosaved struct {
	ID      string      `bson:"_id"`
	Base    int64       `bson:"base"` // the article version the form was loaded at
	Form    articleForm `bson:"form"`
	SavedAt time.Time   `bson:"savedAt"`
}

func autosaveID(articleID, userID string) string { return articleID + "/" + userID }

func (s *autosaves) find(ctx context.Context, articleID, userID string) (*autosaved, error) {
	a, err := mongodb.FindByID[autosaved](ctx, s.coll, "find autosave", autosaveID(articleID, userID))
	if problem.KindOf(err) == problem.NotFound {
		return nil, nil
	}
	return a, err
}

func (s *autosaves) put(ctx context.Context, articleID, userID string, f articleForm) (time.Time, error) {
	doc := autosaved{ID: autosaveID(articleID, userID), Base: f.Version, Form: f, SavedAt: s.now().UTC().Truncate(time.Millisecond)}
	_, err := mongodb.ReplaceByID(ctx, s.coll, "put autosave", doc.ID, doc, options.Replace().SetUpsert(true))
	return doc.SavedAt, err
}

func (s *autosaves) drop(ctx context.Context, articleID, userID string) error {
	_, err := mongodb.DeleteByID(ctx, s.coll, "drop autosave", autosaveID(articleID, userID))
	return err
}

// autosaveArticle stores the form of an article the caller may edit.
func (ui *UI) autosaveArticle(c *gin.Context) {
	p := auth.Caller(c)
	a, err := ui.svc.Articles.Get(c.Request.Context(), p, c.Param("id"))
	if err != nil {
		ui.fail(c, err)
		return
	}
	if !canEdit(p, a) {
		ui.fail(c, problem.New(problem.Forbidden, "you may not edit this article"))
		return
	}
	at, err := ui.autosaves.put(c.Request.Context(), a.ID, p.UserID, readArticleForm(c))
	if err != nil {
		ui.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"savedAt": at})
}
