package content

import "context"

// Test hooks, compiled only into this package's tests.

// ReloadContent makes the content API read the database now, as its poller
// does when another instance has written.
func ReloadContent(ctx context.Context, api *API) error {
	return api.reload(ctx)
}

// CatchUpContent makes the content API take one step of the change feed
// now, as its poller does every PollInterval.
func CatchUpContent(ctx context.Context, api *API) error {
	_, err := api.poller.Step(ctx)
	return err
}
