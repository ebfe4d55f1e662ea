package affiliate_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/wellness/cms/affiliate"
	"github.com/wellness/cms/internal/problem"
	"github.com/wellness/cms/internal/web"
)

// FuzzProductPatch applies arbitrary PATCH bodies the way the handler and
// service do (strict decoding, Apply, Validate) and checks the merge-patch
// rules: every refusal is a client error, never a panic; applying a patch
// twice is applying it once; and only the members the patch names change.
func FuzzProductPatch(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"title":"New"}`, `{"imageUrl":null}`, `{"description":""}`, `{"title":null}`,
		`{"asin":null,"marketplace":null,"url":"https://www.amazon.co.uk/dp/B000123456"}`,
		`{"code":"foam-roller"}`, `{"code":"other"}`, `{"archived":true}`, `{"archived":null}`,
		`{"title":5}`, `{"rating":5}`, `{"code":{"$gt":""}}`, `{"Title":" t "}`,
	} {
		f.Add([]byte(seed))
	}
	allowed := map[string]bool{"www.amazon.com": true, "www.amazon.co.uk": true}
	product := func() affiliate.Product {
		return affiliate.Product{Code: "foam-roller", Title: "Foam roller", ASIN: "B000123456", Marketplace: "amazon.com",
			ImageURL: "https://m.media-amazon.com/images/I/foam.jpg", Description: "For sore calves.", Merchant: "Amazon"}
	}
	f.Fuzz(func(t *testing.T, patch []byte) {
		var u affiliate.ProductUpdate
		if err := web.DecodeBytes(patch, &u); err != nil {
			if k := problem.KindOf(err); k != problem.BadRequest && k != problem.Invalid {
				t.Fatalf("decode error of kind %v: %v", k, err)
			}
			return
		}
		once := product()
		if err := u.Apply(&once); err != nil {
			if problem.KindOf(err) != problem.Invalid {
				t.Fatalf("Apply error of kind %v: %v", problem.KindOf(err), err)
			}
			if once != product() {
				t.Fatalf("a refused patch %s changed the product: %+v", patch, once)
			}
			return
		}
		twice := once
		if err := u.Apply(&twice); err != nil || twice != once {
			t.Errorf("applying %s twice differs from once (%v):\nonce:  %+v\ntwice: %+v", patch, err, once, twice)
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(patch, &members); err != nil {
			t.Fatalf("decoded as an update but not as an object: %v", err)
		}
		old, now := reflect.ValueOf(product()), reflect.ValueOf(once)
		for i := range old.NumField() {
			if reflect.DeepEqual(old.Field(i).Interface(), now.Field(i).Interface()) {
				continue
			}
			name, _, _ := strings.Cut(old.Type().Field(i).Tag.Get("json"), ",")
			named := false
			for m := range members {
				named = named || strings.EqualFold(m, name)
			}
			if !named {
				t.Errorf("patch %s changed %s, which it does not name", patch, name)
			}
		}
		if err := once.Validate(allowed); err != nil && problem.KindOf(err) != problem.Invalid {
			t.Errorf("Validate error of kind %v: %v", problem.KindOf(err), err)
		}
	})
}
