package content

import "context"

// Test hooks, compiled only into this package's tests.

// ReloadContent makes the content API read the database now, as its poller
// does when another instance has written.
func ReloadContent(ctx context.Context, api *API) error {
	_, err := api.reload(ctx)
	return err
}

// CatchUpContent makes the content API apply the change log now, as its
// poller does when the generation moved.
func CatchUpContent(ctx context.Context, api *API) error { return api.catchUp(ctx) }
