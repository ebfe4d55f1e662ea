package mongodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/wellness/cms/internal/problem"
)

// OpTimeout bounds one database call. Every store puts its calls under
// it (or under a longer bound sized to a large document), so a database
// that stops answering costs a request 5 s, never a hung goroutine.
const OpTimeout = 5 * time.Second

// Err translates a driver error at the storage edge, the one place that
// knows the driver's errors: no document is problem.NotFound, a duplicate
// key problem.Conflict, a call past its deadline problem.Unavailable; any
// other failure is wrapped with op and stays Internal. The driver's message
// is kept as the cause, for logs only: clients never see it. A caller that
// owes the client a more specific message (which email is taken, which
// resource was not found) checks the kind with errors.Is and says so.
func Err(op string, err error) error {
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return problem.Wrap(problem.NotFound, fmt.Errorf("%s: %w", op, err), "")
	case mongo.IsDuplicateKeyError(err):
		return problem.Wrap(problem.Conflict, fmt.Errorf("%s: %w", op, err), "")
	case errors.Is(err, context.DeadlineExceeded) || mongo.IsTimeout(err):
		return problem.Wrap(problem.Unavailable, fmt.Errorf("%s: %w", op, err), "the database did not answer in time")
	}
	return fmt.Errorf("%s: %w", op, err)
}
