package site

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
)

// settingsID is the key of the one settings document.
const settingsID = "current"

// store keeps the settings document in site_settings, read by _id; its
// writes go through the version claims every versioned resource uses.
type store struct {
	c        *mongo.Collection
	versions *mongodb.Versions
}

// doc is the stored form. Name, URL and Locale are empty while they
// follow their defaults, which come from configuration: a site that
// never named itself follows a change of CMS_PUBLIC_URL.
type doc struct {
	ID          string    `bson:"_id"`
	Version     int64     `bson:"version"`
	Name        string    `bson:"name"`
	Description string    `bson:"description"`
	URL         string    `bson:"url"`
	Locale      string    `bson:"locale"`
	LogoURL     string    `bson:"logoUrl"`
	Publisher   Publisher `bson:"publisher"`
	UpdatedAt   time.Time `bson:"updatedAt"`
}

// find returns the stored document; a zero one (version 0) before the
// first change.
func (s *store) find(ctx context.Context) (doc, error) {
	d, err := mongodb.FindByID[doc](ctx, s.c, "find site settings", settingsID)
	if errors.Is(err, problem.NotFound) {
		return doc{ID: settingsID}, nil
	}
	if err != nil {
		return doc{}, err
	}
	return *d, nil
}

// replace stores d as the one change from version prev (If-Match means
// what it says across instances: mongodb.Versions). Before the first
// change the document is created at version 0, which the claim needs.
func (s *store) replace(ctx context.Context, d doc, prev int64) error {
	if prev == 0 {
		err := mongodb.Insert(ctx, s.c, "create site settings", doc{ID: settingsID})
		if err != nil && !errors.Is(err, problem.Conflict) {
			return err
		}
	}
	return s.versions.Write(ctx, s.c, settingsID, prev, func(ctx context.Context) error {
		_, err := mongodb.ReplaceByID(ctx, s.c, "replace site settings", settingsID, d)
		return err
	})
}

// resolve is the settings d stands for, the defaults filled in.
func (d doc) resolve(def Settings) Settings {
	s := Settings{Name: d.Name, Description: d.Description, URL: d.URL, Locale: d.Locale,
		LogoURL: d.LogoURL, Publisher: d.Publisher, Version: d.Version}
	if s.Name == "" {
		s.Name = def.Name
	}
	if s.URL == "" {
		s.URL = def.URL
	}
	if s.Locale == "" {
		s.Locale = def.Locale
	}
	if d.Version > 0 {
		at := d.UpdatedAt.UTC()
		s.UpdatedAt = &at
	}
	return s
}

// newDoc is the stored form of s: a value equal to its default is stored
// as following it.
func newDoc(s Settings, def Settings, version int64, at time.Time) doc {
	d := doc{ID: settingsID, Version: version, Name: s.Name, Description: s.Description, URL: s.URL,
		Locale: s.Locale, LogoURL: s.LogoURL, Publisher: s.Publisher, UpdatedAt: at}
	if d.Name == def.Name {
		d.Name = ""
	}
	if d.URL == def.URL {
		d.URL = ""
	}
	if d.Locale == def.Locale {
		d.Locale = ""
	}
	return d
}
