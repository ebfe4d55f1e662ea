package cms

// CloneContent exposes the deep copy of content, so a test can normalize
// a copy without touching the original.
func CloneContent(c Content) Content { return c.clone() }
