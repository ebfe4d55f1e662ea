package server

import (
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// access is one access-log line: what requestContext logs for each
// request.
type access struct {
	at       time.Time
	id       string
	method   string
	route    string
	path     string
	query    string
	status   int
	bytes    int
	duration time.Duration
	clientIP string
}

// The access line is the one log line every request writes, so it is
// encoded by hand rather than through slog, whose records, attribute
// values and handler state cost as much as the rest of the middleware
// together on a cached article. The line has the members, order and
// value forms slog's JSON handler gives it (and every other line), so a
// reader of the log cannot tell: time in RFC 3339 with nanoseconds,
// level "INFO", msg "request", then the request's members, duration in
// nanoseconds.
func (a *access) appendJSON(b []byte) []byte {
	b = append(b, `{"time":"`...)
	b = a.at.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":"request","requestId":`...)
	b = appendJSONString(b, a.id)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, a.method)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, a.route)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, a.path)
	b = append(b, `,"query":`...)
	b = appendJSONString(b, a.query)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(a.status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, int64(a.bytes), 10)
	b = append(b, `,"duration":`...)
	b = strconv.AppendInt(b, int64(a.duration), 10)
	b = append(b, `,"clientIp":`...)
	b = appendJSONString(b, a.clientIP)
	return append(b, "}\n"...)
}

// appendJSONString appends s as a JSON string. The path and query come
// from the client, so everything JSON needs escaped is: quote, backslash
// and control bytes; a byte that is not UTF-8 becomes U+FFFD, so the line
// stays valid JSON whatever was sent. The rest is copied as is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	plain := 0 // s[plain:i] is still to be copied
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		size := 1
		if c >= utf8.RuneSelf {
			var r rune
			if r, size = utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
		}
		b = append(b, s[plain:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				b = append(b, `\ufffd`...)
			}
		}
		i += size
		plain = i
	}
	b = append(b, s[plain:]...)
	return append(b, '"')
}

// accessBufs recycles line buffers: LogWriter copies what it is given.
var accessBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}
