package media

// SetFailpoint makes s call fn between storing an upload's files and
// recording its item; an error from fn stops the upload there.
func SetFailpoint(s *Service, fn func(step string) error) { s.failpoint = fn }

// SweepGrace is how old an unrecorded file must be before Sweep removes it.
const SweepGrace = sweepGrace
