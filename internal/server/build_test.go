package server_test

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/wellness/cms/auth"
	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/content"
	"github.com/wellness/cms/internal/server"
	"github.com/wellness/cms/internal/testenv"
	"github.com/wellness/cms/webhook"
)

// TestBuildForTools: a tool's services (Build, then Load, as cms
// resanitize uses them) are wired like the server's: a change they make
// queues its webhook event, and Amazon links get the associate tag.
func TestBuildForTools(t *testing.T) {
	ctx := context.Background()
	db := testenv.OpenDB(t)
	svc, err := server.Build(ctx, db, server.Options{Logger: testenv.Quiet(),
		AmazonTags: map[string]string{"amazon.com": "clinic-20"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Webhooks.CreateHook(ctx, webhook.HookInput{URL: "https://hooks.example/cms",
		Events: []string{content.EventArticlePublished}}); err != nil {
		t.Fatal(err)
	}
	editor := &auth.Principal{UserID: "u1", Name: "Editor", Role: auth.Editor}
	a, err := svc.Articles.Create(ctx, editor, cms.Content{Title: "Tool change",
		Body: `<p><a href="https://www.amazon.com/dp/B000123456">roller</a></p>`})
	if err != nil {
		t.Fatal(err)
	}
	if !a.HasAffiliateLinks {
		t.Errorf("the Amazon link was not tagged: %s", a.BodyHTML)
	}
	if _, err := svc.Articles.Transition(ctx, editor, a.ID, cms.ActionPublish, 0, cms.PublishDates{}); err != nil {
		t.Fatal(err)
	}
	n, err := db.Database.Collection("webhook_deliveries").CountDocuments(ctx,
		bson.D{{Key: "event", Value: content.EventArticlePublished}})
	if err != nil || n != 1 {
		t.Fatalf("queued %s events: %d, %v; want 1", content.EventArticlePublished, n, err)
	}
}
