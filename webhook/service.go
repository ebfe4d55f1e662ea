package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/wellness/cms/internal/mongodb"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// Delivery states.
const (
	Pending   = "pending"
	Delivered = "delivered"
	Failed    = "failed"
)

// Delivery is one event for one hook, kept in the outbox until it is
// delivered or given up.
type Delivery struct {
	ID             string     `bson:"_id" json:"id"`
	HookID         string     `bson:"hookId" json:"hookId"`
	Event          string     `bson:"event" json:"event"`
	Payload        string     `bson:"payload" json:"-"`
	Status         string     `bson:"status" json:"status"`
	Attempts       int        `bson:"attempts" json:"attempts"`
	NextAttemptAt  time.Time  `bson:"nextAttemptAt" json:"nextAttemptAt"`
	CreatedAt      time.Time  `bson:"createdAt" json:"createdAt"`
	LastStatusCode int        `bson:"lastStatusCode,omitempty" json:"lastStatusCode,omitempty"`
	LastError      string     `bson:"lastError,omitempty" json:"lastError,omitempty"`
	DeliveredAt    *time.Time `bson:"deliveredAt,omitempty" json:"deliveredAt,omitempty"`
}

// Options configures the Service.
type Options struct {
	// Events are the event names hooks may subscribe to, given by the
	// features that emit them (cms.Events): this package delivers events,
	// it does not define them.
	Events []string
	// AllowPrivate lets hooks reach private and loopback addresses
	// (CMS_WEBHOOK_ALLOW_PRIVATE; tests and closed networks).
	AllowPrivate bool
	Now          func() time.Time
	Logger       *slog.Logger
	// Interval between outbox scans; 0 means 1 s.
	Interval time.Duration
}

// Service registers hooks and delivers events.
type Service struct {
	hooks      *mongo.Collection
	deliveries *mongo.Collection
	leases     *mongo.Collection
	versions   *mongodb.Versions
	client     *http.Client
	cfg        Options
	wake       chan struct{}
}

// New uses collections of db.
func New(db *mongo.Database, cfg Options) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	return &Service{
		hooks:      db.Collection("webhooks"),
		deliveries: db.Collection("webhook_deliveries"),
		leases:     db.Collection("webhook_leases"),
		versions:   mongodb.NewVersions(db),
		client:     newClient(cfg.AllowPrivate),
		cfg:        cfg,
		wake:       make(chan struct{}, 1),
	}
}

// EnsureIndexes creates the outbox's indexes.
func (s *Service) EnsureIndexes(ctx context.Context) error {
	return mongodb.EnsureIndexes(ctx, s.deliveries,
		mongo.IndexModel{Keys: bson.D{{Key: "status", Value: 1}, {Key: "nextAttemptAt", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "hookId", Value: 1}, {Key: "createdAt", Value: -1}}},
	)
}

// now is the clock at the precision times are stored with (BSON dates
// hold milliseconds), in UTC, so an answer shows what a later read will.
func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// maxHooks bounds the hooks one event is queued for: a site has a handful.
const maxHooks = 1000

// Emit queues event with data for every active hook that wants it. The
// outbox entry is written before Emit returns, so a restart loses none.
func (s *Service) Emit(ctx context.Context, event string, data any) error {
	hooks, err := s.findHooks(ctx, nil, maxHooks)
	if err != nil {
		return err
	}
	now := s.now()
	var docs []any
	for _, h := range hooks {
		if !h.Active || !h.Wants(event) {
			continue
		}
		id := newID()
		body, err := json.Marshal(struct {
			ID        string    `json:"id"`
			Event     string    `json:"event"`
			CreatedAt time.Time `json:"createdAt"`
			Data      any       `json:"data"`
		}{id, event, now, data})
		if err != nil {
			return fmt.Errorf("encode %s event: %w", event, err)
		}
		docs = append(docs, Delivery{ID: id, HookID: h.ID, Event: event, Payload: string(body),
			Status: Pending, NextAttemptAt: now, CreatedAt: now})
	}
	if len(docs) == 0 {
		return nil
	}
	ctx, cancel := mongodb.Bound(ctx)
	defer cancel()
	if _, err := s.deliveries.InsertMany(ctx, docs); err != nil {
		return mongodb.Err("queue webhook deliveries", err)
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// Run delivers due events until ctx ends: on every Emit and at least every
// Interval (retries come due by the clock).
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	last := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
		if _, err := s.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("webhook deliveries", "err", err)
		}
		if now := s.cfg.Now(); now.Sub(last) > time.Hour {
			last = now
			if err := s.cleanup(ctx, now); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Warn("webhook outbox cleanup", "err", err)
			}
		}
	}
}

// leaseTimeout is how long an attempt claimed by an instance that then
// vanished blocks the delivery before another instance takes over.
const leaseTimeout = time.Minute

// DeliverDue makes one pass over the outbox and reports how many
// deliveries it attempted.
func (s *Service) DeliverDue(ctx context.Context) (int, error) {
	now := s.now()
	due, err := mongodb.FindAll[Delivery](ctx, s.deliveries, "find due deliveries",
		bson.D{{Key: "status", Value: Pending}, {Key: "nextAttemptAt", Value: bson.D{{Key: "$lte", Value: now}}}},
		options.Find().SetSort(bson.D{{Key: "nextAttemptAt", Value: 1}}).SetLimit(20))
	if err != nil {
		return 0, err
	}
	hooks := map[string]*Hook{}
	n := 0
	for i := range due {
		d := &due[i]
		won, err := s.claim(ctx, d, now)
		if err != nil {
			return n, err
		}
		if !won {
			continue
		}
		h, ok := hooks[d.HookID]
		if !ok {
			h, err = s.FindHookByID(ctx, d.HookID)
			if err != nil && !errors.Is(err, problem.NotFound) {
				return n, err
			}
			hooks[d.HookID] = h
		}
		n++
		if err := s.attempt(ctx, d, h, now); err != nil {
			return n, err
		}
	}
	return n, nil
}

// lease is an instance's claim on one attempt of a delivery.
type lease struct {
	ID        string    `bson:"_id"`
	CreatedAt time.Time `bson:"createdAt"`
}

// claim makes this instance the one to make attempt number d.Attempts+1,
// by inserting a lease with a unique _id (conditional updates are not
// atomic on the embedded engine). A lease left by a crashed instance is
// abandoned after leaseTimeout by moving the delivery's schedule, which
// changes the lease key.
func (s *Service) claim(ctx context.Context, d *Delivery, now time.Time) (bool, error) {
	ctx, cancel := mongodb.Bound(ctx)
	defer cancel()
	key := d.ID + ":" + strconv.Itoa(d.Attempts) + ":" + strconv.FormatInt(d.NextAttemptAt.UnixNano(), 10)
	err := mongodb.Insert(ctx, s.leases, "claim webhook delivery", lease{ID: key, CreatedAt: now})
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, problem.Conflict) {
		return false, err
	}
	if l, err := mongodb.FindByID[lease](ctx, s.leases, "find webhook lease", key); err == nil && now.Sub(l.CreatedAt) > leaseTimeout {
		_, err = mongodb.UpdateByID(ctx, s.deliveries, "release abandoned webhook lease", d.ID,
			bson.D{{Key: "$set", Value: bson.D{{Key: "nextAttemptAt", Value: now}}}})
		if err != nil {
			return false, err
		}
	}
	return false, nil
}

// attempt POSTs the delivery and records the outcome.
func (s *Service) attempt(ctx context.Context, d *Delivery, h *Hook, now time.Time) error {
	d.Attempts++
	var code int
	var errMsg string
	switch {
	case h == nil:
		errMsg = "the webhook was deleted"
	case !h.Active:
		errMsg = "the webhook is disabled"
	default:
		code, errMsg = s.post(ctx, d, h, now)
	}
	set := bson.D{{Key: "attempts", Value: d.Attempts}, {Key: "lastStatusCode", Value: code}, {Key: "lastError", Value: errMsg}}
	status := Pending
	switch {
	case code >= 200 && code < 300:
		status = Delivered
		set = append(set, bson.E{Key: "deliveredAt", Value: now})
	case h == nil || !h.Active || now.Sub(d.CreatedAt) >= giveUp:
		status = Failed
	default:
		set = append(set, bson.E{Key: "nextAttemptAt", Value: now.Add(backoff(d.Attempts))})
	}
	set = append(set, bson.E{Key: "status", Value: status})
	ctx, cancel := mongodb.Bound(ctx)
	defer cancel()
	if _, err := mongodb.UpdateByID(ctx, s.deliveries, "record webhook delivery", d.ID, bson.D{{Key: "$set", Value: set}}); err != nil {
		return err
	}
	if h != nil {
		last := status
		if status == Pending {
			last = "retrying"
		}
		if code != 0 {
			last += " (HTTP " + strconv.Itoa(code) + ")"
		}
		_, err := mongodb.UpdateByID(ctx, s.hooks, "record webhook status", h.ID,
			bson.D{{Key: "$set", Value: bson.D{{Key: "lastStatus", Value: last}, {Key: "lastAttemptAt", Value: now}}}})
		if err != nil {
			return err
		}
	}
	return nil
}

// Request headers of a delivery.
const (
	HeaderEvent     = "X-CMS-Event"
	HeaderDelivery  = "X-CMS-Delivery"
	HeaderTimestamp = "X-CMS-Timestamp"
	HeaderSignature = "X-CMS-Signature"
)

func (s *Service) post(ctx context.Context, d *Delivery, h *Hook, now time.Time) (int, string) {
	body := []byte(d.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "invalid URL"
	}
	ts := now.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "wellness-cms-webhook/1")
	req.Header.Set(HeaderEvent, d.Event)
	req.Header.Set(HeaderDelivery, d.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Signature(h.Secret, ts, body))
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, errForbiddenAddress) {
			return 0, "refused: the URL resolves to a private, loopback, link-local or other special-purpose address"
		}
		return 0, "request failed: " + shortErr(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 300 {
		return resp.StatusCode, "the endpoint answered " + resp.Status
	}
	return resp.StatusCode, ""
}

// shortErr keeps the last part of a network error, which says what went
// wrong without repeating the URL.
func shortErr(err error) string {
	for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
		err = u
	}
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}

// cleanup removes finished deliveries older than a week and old leases.
func (s *Service) cleanup(ctx context.Context, now time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := mongodb.DeleteMany(ctx, s.deliveries, "delete old deliveries", bson.D{
		{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{Delivered, Failed}}}},
		{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: now.Add(-7 * 24 * time.Hour)}}},
	}); err != nil {
		return err
	}
	_, err := mongodb.DeleteMany(ctx, s.leases, "delete old leases",
		bson.D{{Key: "createdAt", Value: bson.D{{Key: "$lt", Value: now.Add(-giveUp - time.Hour)}}}})
	return err
}

// FindHookByID returns the hook with id, or NotFound.
func (s *Service) FindHookByID(ctx context.Context, id string) (*Hook, error) {
	h, err := mongodb.FindByID[Hook](ctx, s.hooks, "find webhook", id)
	if errors.Is(err, problem.NotFound) {
		return nil, problem.New(problem.NotFound, "no such webhook")
	}
	return h, err
}

// Events are the event names hooks may subscribe to.
func (s *Service) Events() []string { return slices.Clone(s.cfg.Events) }

// Hooks lists up to n hooks, oldest first: the admin UI's list (a site
// has a handful; the API pages them).
func (s *Service) Hooks(ctx context.Context, n int) ([]Hook, error) { return s.findHooks(ctx, nil, n) }

// Deliveries lists up to n of the hook's deliveries, newest first.
func (s *Service) Deliveries(ctx context.Context, hookID string, n int) ([]Delivery, error) {
	return s.findDeliveries(ctx, hookID, nil, n)
}

// DeleteHook removes the hook id, at the version at names if it names
// one. Errors: NotFound, PreconditionFailed.
func (s *Service) DeleteHook(ctx context.Context, id string, at web.Precondition) error {
	h, err := s.FindHookByID(ctx, id)
	if err != nil {
		return err
	}
	if err := at.Check("webhook", h.Version); err != nil {
		return err
	}
	err = s.versions.Write(ctx, s.hooks, h.ID, h.Version, func(ctx context.Context) error {
		_, err := mongodb.DeleteByID(ctx, s.hooks, "delete webhook", h.ID)
		return err
	})
	return hookErr(err)
}
