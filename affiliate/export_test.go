package affiliate

import (
	"context"

	"github.com/wellness/cms/internal/changefeed"
)

// SyncCatalogue is one step of the catalogue's change poller, for tests
// that drive it instead of waiting for RunSync's ticker.
func (s *Service) SyncCatalogue(ctx context.Context) (changefeed.Batch, error) {
	return s.poller.Step(ctx)
}
