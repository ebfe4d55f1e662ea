package affiliate

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
)

// settingsID is the key of the one settings document.
const settingsID = "current"

// Store keeps the product catalogue and the settings.
type Store struct {
	products *mongo.Collection
	settings *mongo.Collection
	versions *mongodb.Versions
}

// NewStore uses collections of db.
func NewStore(db *mongo.Database) *Store {
	return &Store{
		products: db.Collection("products"),
		settings: db.Collection("affiliate_settings"),
		versions: mongodb.NewVersions(db),
	}
}

// InsertProduct inserts p. A taken code is a Conflict.
func (s *Store) InsertProduct(ctx context.Context, p *Product) error {
	err := mongodb.Insert(ctx, s.products, "insert product", p)
	if errors.Is(err, problem.Conflict) {
		return problem.Wrap(problem.Conflict, err, "a product with the code %q already exists", p.Code)
	}
	return err
}

// FindProductByCode returns the product or NotFound.
func (s *Store) FindProductByCode(ctx context.Context, code string) (*Product, error) {
	return mongodb.FindByID[Product](ctx, s.products, "find product", code)
}

// ProductFilter selects a page of products in code order.
type ProductFilter struct {
	// After is the code the page starts after (exclusive).
	After string
	// Archived, when set, keeps only products with that flag.
	Archived *bool
	Limit    int
}

// FindProducts returns the page of products the filter selects. A zero
// Limit means all.
func (s *Store) FindProducts(ctx context.Context, f ProductFilter) ([]Product, error) {
	filter := bson.D{}
	if f.After != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$gt", Value: f.After}}})
	}
	if f.Archived != nil {
		filter = append(filter, bson.E{Key: "archived", Value: *f.Archived})
	}
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}})
	if f.Limit > 0 {
		opts.SetLimit(int64(f.Limit))
	}
	return mongodb.FindAll[Product](ctx, s.products, "find products", filter, opts)
}

// ReplaceProduct stores p, which read version prev, as the product's next
// version (mongodb.Versions). Errors: NotFound, PreconditionFailed (another
// change of prev was saved first).
func (s *Store) ReplaceProduct(ctx context.Context, p *Product, prev int64) error {
	p.Version = prev + 1
	err := s.versions.Write(ctx, s.products, p.Code, prev, func(ctx context.Context) error {
		found, err := mongodb.ReplaceByID(ctx, s.products, "replace product", p.Code, p)
		if err == nil && !found {
			return problem.New(problem.NotFound, "")
		}
		return err
	})
	return productErr(err)
}

// DeleteProduct removes the product, which the caller read at version
// prev. Errors: NotFound, PreconditionFailed.
func (s *Store) DeleteProduct(ctx context.Context, code string, prev int64) error {
	err := s.versions.Write(ctx, s.products, code, prev, func(ctx context.Context) error {
		found, err := mongodb.DeleteByID(ctx, s.products, "delete product", code)
		if err == nil && !found {
			return problem.New(problem.NotFound, "")
		}
		return err
	})
	return productErr(err)
}

// productErr says which product was not found.
func productErr(err error) error {
	if errors.Is(err, problem.NotFound) {
		return problem.Wrap(problem.NotFound, err, "no product with this code")
	}
	return err
}

// FindSettings returns the stored settings, or NotFound before the first
// start has seeded them.
func (s *Store) FindSettings(ctx context.Context) (*Settings, error) {
	doc, err := mongodb.FindByID[settingsDoc](ctx, s.settings, "find affiliate settings", settingsID)
	if err != nil {
		return nil, err
	}
	return doc.settings(), nil
}

// settingsDoc is the stored form of Settings. Tags are a list rather than
// a map because their keys (amazon.com) contain dots, which FerretDB
// refuses in field names.
type settingsDoc struct {
	ID             string    `bson:"_id"`
	Tags           []tagDoc  `bson:"tags"`
	DisclosureText string    `bson:"disclosureText"`
	AllowedHosts   []string  `bson:"allowedHosts"`
	LinkMode       string    `bson:"linkMode,omitempty"`
	UpdatedAt      time.Time `bson:"updatedAt"`
	Version        int64     `bson:"version"`
}

type tagDoc struct {
	Marketplace string `bson:"marketplace"`
	Tag         string `bson:"tag"`
}

func newSettingsDoc(st *Settings) settingsDoc {
	d := settingsDoc{ID: settingsID, DisclosureText: st.DisclosureText, AllowedHosts: st.AllowedHosts, LinkMode: st.LinkMode, UpdatedAt: st.UpdatedAt, Version: st.Version}
	for _, mp := range slices.Sorted(maps.Keys(st.Tags)) {
		d.Tags = append(d.Tags, tagDoc{Marketplace: mp, Tag: st.Tags[mp]})
	}
	if d.AllowedHosts == nil {
		d.AllowedHosts = []string{}
	}
	return d
}

func (d *settingsDoc) settings() *Settings {
	st := &Settings{Tags: make(map[string]string, len(d.Tags)), DisclosureText: d.DisclosureText,
		AllowedHosts: d.AllowedHosts, LinkMode: d.LinkMode, UpdatedAt: d.UpdatedAt, Version: d.Version}
	if st.LinkMode == "" { // stored before link modes existed
		st.LinkMode = LinkModePing
	}
	for _, t := range d.Tags {
		st.Tags[t.Marketplace] = t.Tag
	}
	if st.AllowedHosts == nil {
		st.AllowedHosts = []string{}
	}
	return st
}

// SeedSettings stores st unless settings exist already, and returns what
// is stored then. It inserts rather than upserts: an insert with a fixed
// _id is atomic on both engines, so two instances starting together agree
// on one document.
func (s *Store) SeedSettings(ctx context.Context, st Settings) (*Settings, error) {
	err := mongodb.Insert(ctx, s.settings, "seed affiliate settings", newSettingsDoc(&st))
	if err != nil && !errors.Is(err, problem.Conflict) {
		return nil, err
	}
	return s.FindSettings(ctx)
}

// ReplaceSettings stores st, read at version prev, as the settings' next
// version (mongodb.Versions). Errors: NotFound (never seeded),
// PreconditionFailed (another change of prev was saved first).
func (s *Store) ReplaceSettings(ctx context.Context, st *Settings, prev int64) error {
	st.Version = prev + 1
	return s.versions.Write(ctx, s.settings, settingsID, prev, func(ctx context.Context) error {
		_, err := mongodb.ReplaceByID(ctx, s.settings, "replace affiliate settings", settingsID, newSettingsDoc(st))
		return err
	})
}
