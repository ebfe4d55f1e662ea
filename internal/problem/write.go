package problem

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// TypeBase prefixes every problem type URI.
const TypeBase = "https://wellness-cms.dev/problems/"

// ContentType is the media type of RFC 9457 problem details.
const ContentType = "application/problem+json"

// Details is the RFC 9457 body.
type Details struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Instance  string       `json:"instance,omitempty"`
	RequestID string       `json:"requestId,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`
}

// DetailsOf builds the client-visible body for err. For Internal errors the
// detail is generic: the cause belongs in the log, not the response.
func DetailsOf(err error) Details {
	k := KindOf(err)
	meta, ok := kinds[k]
	if !ok {
		k, meta = Internal, kinds[Internal]
	}
	d := Details{Type: TypeBase + meta.slug, Title: meta.title, Status: meta.status}
	var pe *Error
	if errors.As(err, &pe) && k != Internal {
		d.Detail = pe.Detail
		d.Errors = pe.Fields
	}
	if d.Detail == "" {
		d.Detail = defaultDetail(k)
	}
	return d
}

func defaultDetail(k Kind) string {
	switch k {
	case Internal:
		return "The server could not complete the request. It has been logged."
	case NotFound:
		return "The requested resource does not exist."
	case Unauthorized:
		return "Valid credentials are required."
	}
	return kinds[k].title
}

// Write sends err as problem+json. requestID, when set, is echoed so a user
// can quote it to support.
func Write(w http.ResponseWriter, r *http.Request, requestID string, err error) {
	d := DetailsOf(err)
	d.Instance = r.URL.Path
	d.RequestID = requestID
	var pe *Error
	if errors.As(err, &pe) && pe.RetryAfter > 0 {
		secs := int(pe.RetryAfter.Seconds() + 0.999)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	body, _ := json.Marshal(d)
	if errors.As(err, &pe) && len(pe.Extensions) > 0 && d.Status != http.StatusInternalServerError {
		body = withExtensions(body, pe.Extensions)
	}
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Cache-Control", "no-store")
	h.Del("ETag")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(d.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// withExtensions adds ext to the JSON object body, leaving the standard
// members as they are. A member that fails to encode is left out rather
// than failing the error answer.
func withExtensions(body []byte, ext map[string]any) []byte {
	var members map[string]json.RawMessage
	if json.Unmarshal(body, &members) != nil {
		return body
	}
	for k, v := range ext {
		if _, taken := members[k]; taken {
			continue
		}
		if raw, err := json.Marshal(v); err == nil {
			members[k] = raw
		}
	}
	out, err := json.Marshal(members)
	if err != nil {
		return body
	}
	return out
}
