package affiliate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/wellness/cms/internal/changefeed"
)

// SyncCatalogue is one step of the catalogue's change poller, for tests
// that drive it instead of waiting for RunSync's ticker.
func (s *Service) SyncCatalogue(ctx context.Context) (changefeed.Batch, error) {
	return s.poller.Step(ctx)
}

// NewRecorderForTest is a recorder over db and dataDir without its writer
// goroutine: tests call Persist themselves. fault, when set, is asked
// before each step of persist ("insert", "claim", "ledger", "rollup",
// "mark") and fails it with its error: a crash at that step.
func NewRecorderForTest(db *mongo.Database, dataDir string, fault func(step string) error) (*Recorder, error) {
	spill, err := openSpill(dataDir)
	if err != nil {
		return nil, err
	}
	r, err := prepareRecorder(NewClickStore(db, 0), spill, testRecorderOptions, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	r.fault = fault
	return r, nil
}

// StartRecorderForTest is a running recorder over db and dataDir.
func StartRecorderForTest(db *mongo.Database, dataDir string) (*Recorder, error) {
	spill, err := openSpill(dataDir)
	if err != nil {
		return nil, err
	}
	return newRecorder(NewClickStore(db, 0), spill, testRecorderOptions, nil, slog.New(slog.DiscardHandler))
}

var testRecorderOptions = recorderOptions{QueueSize: 1000, BatchSize: 100,
	FlushInterval: 20 * time.Millisecond, RetryInterval: 50 * time.Millisecond}

// Persist is one attempt of the writer at storing clicks.
func (r *Recorder) Persist(ctx context.Context, clicks []Click) error { return r.persist(ctx, clicks) }

// NewClickForTest is a valid click; visitor "" makes a bot's.
func NewClickForTest(product, article, visitor string, at time.Time) Click {
	c := Click{ID: newClickID(), Product: product, Article: article, Time: at.UTC(), Day: dayOf(at)}
	if visitor == "" {
		c.Bot = true
	} else {
		sum := sha256.Sum256([]byte(visitor))
		c.Visitor = hex.EncodeToString(sum[:])
	}
	return c
}
