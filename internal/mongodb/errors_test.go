package mongodb

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/wellness/cms/internal/problem"
)

func TestErr(t *testing.T) {
	dup := mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000, Message: "E11000 duplicate key"}}}
	other := errors.New("connection reset")
	for _, tt := range []struct {
		name string
		err  error
		want problem.Kind
	}{
		{"no document", mongo.ErrNoDocuments, problem.NotFound},
		{"wrapped no document", fmt.Errorf("x: %w", mongo.ErrNoDocuments), problem.NotFound},
		{"duplicate key", dup, problem.Conflict},
		{"deadline", context.DeadlineExceeded, problem.Unavailable},
		{"other", other, problem.Internal},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Err("find thing", tt.err)
			if k := problem.KindOf(got); k != tt.want {
				t.Fatalf("kind = %v, want %v", k, tt.want)
			}
			if kept := mongo.IsDuplicateKeyError(got) || errors.Is(got, tt.err); !kept {
				t.Errorf("the cause is not kept: %v", got)
			}
			if d := problem.DetailsOf(got); d.Detail != "" && tt.want == problem.Internal && d.Detail != problem.DetailsOf(other).Detail {
				t.Errorf("an internal error shows %q", d.Detail)
			}
		})
	}
}
