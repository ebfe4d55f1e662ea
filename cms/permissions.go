package cms

import (
	"fmt"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/internal/problem"
)

// The actions on an article besides the workflow ones (workflow.go). Each
// is a row of rules.
const (
	ActionCreate  Action = "create"  // POST /articles: a new draft the caller owns
	ActionRead    Action = "read"    // the article, its revisions, the list
	ActionEdit    Action = "edit"    // PATCH: a merge patch of the content
	ActionRestore Action = "restore" // the content of a revision as the next version
	// ActionStage is editing or restoring a published article, and
	// discarding its changes: that changes only its draft (staged.go), so
	// readers get nothing new until someone who may publish it does.
	// Hence contributors may prepare changes to their own live articles.
	ActionStage   Action = "stage"
	ActionPreview Action = "preview" // a link that shows it before publication
	// ActionAssignAuthor names someone else as the author (authorId on
	// create and PATCH): posting for a therapist, handing a departed
	// writer's work on. Sending the author an article already has (or,
	// on create, one's own ID) changes nothing and needs no right.
	ActionAssignAuthor Action = "assign-author"
	// ActionBackdate publishes with a publishedAt in the past, for
	// migrations: readers and feeds then date the article earlier than
	// anyone published it.
	ActionBackdate Action = "backdate"
)

// rule is one row of the permission table: the least role that may take
// an action on the caller's own article and on anyone else's, once while
// the article is not live (draft, in review, archived) and once while it
// is (published or scheduled), since acting on a live article may change
// what readers get. (Content changes of a published article do not: they
// are ActionStage.) Roles are ordered (auth.Role.AtLeast): a role may do
// whatever the ones below it may. "" means nobody.
type rule struct {
	own, other         auth.Role
	ownLive, otherLive auth.Role
}

// rules is who may do what to an article: the one place that says so.
// Every check of the service asks it through may; the routes' first gate
// (gate) and the list filter (readsAll) are derived from it. Whether an
// action applies to the article's status at all (publishing a published
// article, say) is the state machine's concern (Step), not a permission.
var rules = map[Action]rule{
	//                own               other        own live          other live
	ActionCreate:  {auth.Contributor, "", "", ""}, // a new article is the caller's own draft
	ActionRead:    {auth.Contributor, auth.Editor, auth.Contributor, auth.Editor},
	ActionPreview: {auth.Contributor, auth.Editor, auth.Contributor, auth.Editor},
	ActionEdit:    {auth.Contributor, auth.Editor, auth.Author, auth.Editor},
	ActionRestore: {auth.Contributor, auth.Editor, auth.Author, auth.Editor},
	// Only published articles are staged; a scheduled one is edited
	// directly (contentAction), so it stays behind the right to publish.
	ActionStage:     {auth.Contributor, auth.Editor, auth.Contributor, auth.Editor},
	ActionSubmit:    {auth.Contributor, auth.Editor, auth.Contributor, auth.Editor},
	ActionPublish:   {auth.Author, auth.Editor, auth.Author, auth.Editor}, // and schedule
	ActionUnpublish: {auth.Author, auth.Editor, auth.Author, auth.Editor},
	ActionArchive:   {auth.Contributor, auth.Editor, auth.Author, auth.Editor},
	// Who wrote an article and when it appeared are part of the record
	// readers trust: only editors change them, on any article.
	ActionAssignAuthor: {auth.Editor, auth.Editor, auth.Editor, auth.Editor},
	ActionBackdate:     {auth.Editor, auth.Editor, auth.Editor, auth.Editor},
}

// least returns the role a rule needs for an article the caller owns or
// not, live or not.
func (r rule) least(own, isLive bool) auth.Role {
	switch {
	case own && isLive:
		return r.ownLive
	case own:
		return r.own
	case isLive:
		return r.otherLive
	default:
		return r.other
	}
}

// allows reports whether p holds role min; no one holds "".
func allows(p *auth.Principal, min auth.Role) bool { return min != "" && p.AtLeast(min) }

// may checks that p may take act on a, or, for ActionCreate, create an
// article (a is nil then). An article the caller may not read is NotFound,
// exactly like a missing one, so IDs do not leak; one the caller may read
// but not act on is Forbidden. An action without a rule is refused.
func may(p *auth.Principal, act Action, a *Article) error {
	r, ok := rules[act]
	if !ok {
		return problem.New(problem.Forbidden, "unknown action %q", act)
	}
	if a == nil {
		if !allows(p, r.own) {
			return problem.New(problem.Forbidden, "you may not %s articles", act)
		}
		return nil
	}
	own, isLive := p.Owns(a.Author.ID), live(a)
	if !allows(p, rules[ActionRead].least(own, isLive)) {
		return notFound()
	}
	if allows(p, r.least(own, isLive)) {
		return nil
	}
	if isLive && allows(p, r.least(own, false)) {
		return problem.New(problem.Forbidden, "this article is %s; changing it needs the right to publish it", a.Status)
	}
	return problem.New(problem.Forbidden, "you may not %s this article", act)
}

// readsAll reports whether p may read every article, whoever owns it and
// whatever its status; the list shows everyone else only their own.
func readsAll(p *auth.Principal) bool {
	r := rules[ActionRead]
	return allows(p, r.other) && allows(p, r.otherLive)
}

// gate is the first, coarse check of an action's route: the least role
// the table lets take it on any article at all. Callers below it are
// refused before an article is looked up (403, not 404, even for an
// article they could not see); the service then applies the full rule.
func gate(act Action) auth.Access {
	r, ok := rules[act]
	if !ok {
		panic(fmt.Sprintf("cms: no permission rule for action %q", act))
	}
	for _, role := range auth.Roles {
		for _, min := range []auth.Role{r.own, r.other, r.ownLive, r.otherLive} {
			if min != "" && role.AtLeast(min) {
				return auth.AtLeast(role)
			}
		}
	}
	panic(fmt.Sprintf("cms: no role may %s", act))
}

// contentAction is the action a change of content (act: edit or restore)
// takes on a: on a published article it is staged (ActionStage).
func contentAction(act Action, a *Article) Action {
	if a.Status == StatusPublished {
		return ActionStage
	}
	return act
}

// live reports whether readers can see the article now or will without
// anyone acting again.
func live(a *Article) bool { return a.Status == StatusPublished || a.Status == StatusScheduled }

// mayField is may for an action that a field of a request asks for
// (authorId, publishedAt): a refusal names the field and the least role
// the table wants for it, so a client knows which part of its body was
// refused and why.
func mayField(p *auth.Principal, act Action, a *Article, field string) error {
	err := may(p, act, a)
	if problem.KindOf(err) != problem.Forbidden {
		return err
	}
	min := rules[act].own
	if a != nil {
		min = rules[act].least(p.Owns(a.Author.ID), live(a))
	}
	msg := fmt.Sprintf("needs the %s role or higher", min)
	return &problem.Error{Kind: problem.Forbidden, Detail: field + " " + msg,
		Fields: []problem.FieldError{{Field: field, Message: msg}}}
}

// Can reports whether p may take act on a now (a nil for ActionCreate), by
// the table the service enforces: the admin UI offers only the buttons
// that would work. An edit or restore of a published article asks for
// ActionStage, as the service does.
func Can(p *auth.Principal, act Action, a *Article) bool {
	if a != nil && (act == ActionEdit || act == ActionRestore) {
		act = contentAction(act, a)
	}
	return may(p, act, a) == nil
}
