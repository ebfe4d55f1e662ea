package cms

// Test hooks, compiled only into this package's tests.

// SetFailpoint makes s call f between the writes of a multi-document
// change; an error from f stops the change there, as a crash would.
func SetFailpoint(s *Service, f func(step string) error) { s.failpoint = f }

// Measure exposes the word count and excerpt rules.
func Measure(sanitized string) (int, string) { return measure(sanitized) }

// DeriveKeys exposes the derivation of the list's filter keys.
func DeriveKeys(a *Article) { a.deriveKeys() }

// Search key bounds.
const (
	MaxSearchWord  = maxSearchWord
	MaxSearchBytes = maxSearchBytes
)

// FallbackSlug exposes the slug of a title that folds to nothing.
func FallbackSlug(id string) string { return fallbackSlug(id) }

// ClaimGrace and OrphanGrace expose the recovery delays.
const (
	ClaimGrace  = claimGrace
	OrphanGrace = orphanGrace
)

// SetMaxRevisions lowers the revision bound so a test need not write a
// hundred versions to reach it.
func SetMaxRevisions(s *Service, n int64) { s.maxRevisions = n }
