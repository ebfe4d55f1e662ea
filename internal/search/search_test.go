package search

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Crème Brûlée", "creme brulee"},
		{"MASSAGE", "massage"},
		{"Straße", "strasse"},
		{"Øresund Ærø", "oresund aero"},
		{"naïve café", "naive cafe"},
		{"Ćwiczenia łydek", "cwiczenia lydek"},
		{"\xf0Crème", "\ufffdcreme"}, // a broken byte used to leave the accent after it
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := Words("Neck-pain: 5 stretches (and more)!"); !reflect.DeepEqual(got, []string{"neck", "pain", "5", "stretches", "and", "more"}) {
		t.Errorf("Words = %q", got)
	}
}

func ids(hits []Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func TestSearchRankingAndMatching(t *testing.T) {
	ix := New()
	ix.Put(Doc{ID: "body", Title: "Living with back pain", Body: "A gentle massage can help. " + strings.Repeat("Rest and heat. ", 20)})
	ix.Put(Doc{ID: "title", Title: "Massage for chronic pain relief", Body: "Headed sections about relief."})
	ix.Put(Doc{ID: "tag", Title: "Sleep better", Tags: []string{"deep-tissue-massage"}, Body: "Sleep hygiene."})
	ix.Put(Doc{ID: "accent", Title: "Crème for sore muscles", Summary: "Thérapie douce"})

	tests := []struct {
		q    string
		want []string
	}{
		{"massage", []string{"title", "tag", "body"}}, // title above tag above body
		{"MASSAGE pain", []string{"title", "body"}},   // every word must match
		{"creme", []string{"accent"}},                 // accent-insensitive
		{"thérapie", []string{"accent"}},
		{"therapie DOUCE", []string{"accent"}},
		{"mass", []string{"title", "tag", "body"}}, // prefix
		{"ma", nil}, // too short for a prefix
		{"yoga", nil},
		{"", nil},
		{"  !!! ", nil},
	}
	for _, tt := range tests {
		if got := ids(ix.Search(tt.q)); !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("Search(%q) = %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestPutReplacesAndRemoveForgets(t *testing.T) {
	ix := New()
	ix.Put(Doc{ID: "a", Title: "Stretching for runners"})
	ix.Put(Doc{ID: "a", Title: "Foam rolling for runners"})
	if got := ix.Search("stretching"); len(got) != 0 {
		t.Fatalf("old words still match: %v", got)
	}
	if got := ids(ix.Search("foam")); !reflect.DeepEqual(got, []string{"a"}) {
		t.Fatalf("new words: %v", got)
	}
	ix.Remove("a")
	if ix.Len() != 0 || len(ix.Search("runners")) != 0 || len(ix.postings) != 0 {
		t.Fatalf("removed document still indexed: %d docs, %d words", ix.Len(), len(ix.postings))
	}
}

func TestConcurrentUse(t *testing.T) {
	ix := New()
	done := make(chan bool)
	go func() {
		for i := 0; i < 200; i++ {
			ix.Put(Doc{ID: fmt.Sprint(i % 20), Title: fmt.Sprintf("massage number %d", i)})
		}
		done <- true
	}()
	for i := 0; i < 200; i++ {
		ix.Search("massage")
	}
	<-done
	if n := len(ix.Search("massage")); n != 20 {
		t.Fatalf("%d hits, want 20", n)
	}
}

func BenchmarkSearch(b *testing.B) {
	ix := New()
	words := strings.Fields("massage pain relief neck back shoulder stretch sleep posture therapy physio knee hip yoga heat ice rest breathing")
	for i := 0; i < 1000; i++ {
		var body strings.Builder
		for j := 0; j < 1200; j++ {
			body.WriteString(words[(i*7+j*13)%len(words)] + " ")
		}
		ix.Put(Doc{ID: fmt.Sprint(i), Title: words[i%len(words)] + " guide " + fmt.Sprint(i), Body: body.String()})
	}
	b.ResetTimer()
	for b.Loop() {
		ix.Search("neck stretch")
	}
}
