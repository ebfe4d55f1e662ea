package cms_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/wellness/cms/cms"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// FuzzMergePatch applies arbitrary PATCH bodies the way the handler does
// (strict decoding, Check, Apply, Normalize, Validate) and checks the merge
// patch rules: errors are client errors, never a panic; applying a patch
// twice is applying it once (RFC 7396 patches are idempotent); Normalize
// is idempotent; and a change touches only the members the patch names.
func FuzzMergePatch(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"title":"New"}`, `{"summary":null}`, `{"cta":null}`, `{"seo":{"title":"Only this"}}`,
		`{"seo":{"description":null}}`, `{"coverImage":{"url":null,"alt":null}}`, `{"tags":["One"," one","TWO"]}`,
		`{"sources":null}`, `{"bodyFormat":null}`, `{"title":null}`, `{"seo":{"keywords":"x"}}`,
		`{"products":[{"code":{"$gt":""}}]}`, `{"cta":{"url":"https://a.test/'\"<>"}}`,
		`{"medicalReview":{"reviewedAt":"2026-01-02T03:04:05.5+01:00"}}`, `{"tags":null,"sources":[{"title":" t ","url":" https://a.test "}]}`,
		`{"coverImage":{"url":"https://img.test/a%zz"}}`, `{"slug":"New-Slug"}`, `{"body":"<p>x</p>","bodyFormat":"markdown"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, patch []byte) {
		var u cms.ArticleUpdate
		if err := web.DecodeBytes(patch, &u); err != nil {
			if k := problem.KindOf(err); k != problem.BadRequest && k != problem.Invalid {
				t.Fatalf("decode error of kind %v: %v", k, err)
			}
			return
		}
		if err := u.Check(); err != nil {
			if problem.KindOf(err) != problem.Invalid || len(fieldsOf(err)) == 0 {
				t.Fatalf("Check error is not Invalid with fields: %v", err)
			}
			return
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(patch, &members); err != nil {
			t.Fatalf("decoded as an update but not as an object: %v", err)
		}
		old := validContent()
		old.Normalize()
		once := validContent()
		once.Normalize()
		u.Apply(&once)
		once.Normalize()
		twice := cms.CloneContent(once)
		u.Apply(&twice)
		twice.Normalize()
		if !reflect.DeepEqual(once, twice) {
			t.Errorf("applying %s twice differs from once:\nonce:  %+v\ntwice: %+v", patch, once, twice)
		}
		again := cms.CloneContent(once)
		again.Normalize()
		if !reflect.DeepEqual(once, again) {
			t.Errorf("Normalize is not idempotent after %s:\nonce:  %+v\nagain: %+v", patch, once, again)
		}
		for _, name := range once.Changed(&old) {
			// encoding/json matches member names regardless of case.
			named := false
			for m := range members {
				named = named || strings.EqualFold(m, name)
			}
			if !named {
				t.Errorf("patch %s changed %s, which it does not name", patch, name)
			}
		}
		if err := once.Validate(testNow); err != nil && problem.KindOf(err) != problem.Invalid {
			t.Errorf("Validate error of kind %v: %v", problem.KindOf(err), err)
		}
	})
}
