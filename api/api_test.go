// Package api pins the public API. TestAPI lists every exported name and
// signature of the public packages, one per line, and compares the list
// with ocicni.txt, so that a change to the API is always deliberate and
// shows in review. After changing the API on purpose, regenerate the
// snapshot with `make api` (go test ./api -update) and commit it.
package api

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite ocicni.txt from the current sources")

// publicPackages are the packages a runtime imports, relative to the
// repository root, with the import path their lines are prefixed with.
var publicPackages = []string{"ocicni", "ocicni/netselect", "ocicni/ocicnitest", "types"}

const snapshot = "ocicni.txt"

func TestAPI(t *testing.T) {
	var lines []string
	for _, dir := range publicPackages {
		got, err := packageAPI(filepath.Join("..", dir), "github.com/netplumb/ocicni/"+dir)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, got...)
	}
	got := strings.Join(lines, "\n") + "\n"
	if *update {
		if err := os.WriteFile(snapshot, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(snapshot)
	if err != nil {
		t.Fatalf("%v (run `make api` to create it)", err)
	}
	if added, removed := diff(string(want), got); len(added)+len(removed) > 0 {
		t.Errorf("the public API differs from api/%s; if the change is deliberate, run `make api` and commit the result\nadded:\n\t%s\nremoved:\n\t%s",
			snapshot, strings.Join(added, "\n\t"), strings.Join(removed, "\n\t"))
	}
}

// diff returns the lines only in got and the lines only in want.
func diff(want, got string) (added, removed []string) {
	w, g := strings.Split(strings.TrimSpace(want), "\n"), strings.Split(strings.TrimSpace(got), "\n")
	for _, l := range g {
		if !slices.Contains(w, l) {
			added = append(added, l)
		}
	}
	for _, l := range w {
		if !slices.Contains(g, l) {
			removed = append(removed, l)
		}
	}
	return added, removed
}

// packageAPI returns the sorted API lines of the package in dir, as built
// for linux/amd64 (the files of other platforms hold only stubs).
func packageAPI(dir, path string) ([]string, error) {
	ctx := build.Default
	ctx.GOOS, ctx.GOARCH = "linux", "amd64"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	w := &writer{fset: fset, prefix: "pkg " + path + ", "}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		if ok, err := ctx.MatchFile(dir, name); err != nil || !ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		if f.Name.Name == "main" {
			continue
		}
		for _, d := range f.Decls {
			w.decl(d)
		}
	}
	slices.Sort(w.lines)
	return slices.Compact(w.lines), nil
}

type writer struct {
	fset   *token.FileSet
	prefix string
	lines  []string
}

func (w *writer) add(format string, args ...any) {
	w.lines = append(w.lines, w.prefix+fmt.Sprintf(format, args...))
}

// expr prints a node on one line.
func (w *writer) expr(n ast.Node) string {
	var b bytes.Buffer
	if err := printer.Fprint(&b, w.fset, n); err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// fields prints a parameter or result list with the names left out, so
// that renaming a parameter does not change the API.
func (w *writer) fields(fl *ast.FieldList) string {
	if fl == nil {
		return ""
	}
	var out []string
	for _, f := range fl.List {
		n := max(1, len(f.Names))
		for range n {
			out = append(out, w.expr(f.Type))
		}
	}
	return strings.Join(out, ", ")
}

func (w *writer) signature(ft *ast.FuncType) string {
	s := "(" + w.fields(ft.Params) + ")"
	switch r := w.fields(ft.Results); {
	case r == "":
	case len(ft.Results.List) == 1 && len(ft.Results.List[0].Names) <= 1:
		s += " " + r
	default:
		s += " (" + r + ")"
	}
	return s
}

func (w *writer) decl(d ast.Decl) {
	switch d := d.(type) {
	case *ast.FuncDecl:
		if !d.Name.IsExported() {
			return
		}
		if d.Recv == nil {
			w.add("func %s%s", d.Name.Name, w.signature(d.Type))
			return
		}
		recv := d.Recv.List[0].Type
		base := recv
		if s, ok := base.(*ast.StarExpr); ok {
			base = s.X
		}
		if id, ok := base.(*ast.IndexExpr); ok {
			base = id.X
		}
		if id, ok := base.(*ast.Ident); !ok || !id.IsExported() {
			return
		}
		w.add("method (%s) %s%s", w.expr(recv), d.Name.Name, w.signature(d.Type))
	case *ast.GenDecl:
		var typ ast.Expr // carried over within a const group, as iota does
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.TypeSpec:
				w.typeSpec(s)
			case *ast.ValueSpec:
				if s.Type != nil || len(s.Values) > 0 {
					typ = s.Type
				}
				for i, n := range s.Names {
					if !n.IsExported() {
						continue
					}
					line := d.Tok.String() + " " + n.Name
					if typ != nil {
						line += " " + w.expr(typ)
					}
					if d.Tok == token.CONST && i < len(s.Values) {
						line += " = " + w.expr(s.Values[i])
					}
					w.add("%s", line)
				}
			}
		}
	}
}

func (w *writer) typeSpec(s *ast.TypeSpec) {
	if !s.Name.IsExported() {
		return
	}
	name := s.Name.Name
	if s.TypeParams != nil {
		name += "[" + w.fields(s.TypeParams) + "]"
	}
	if s.Assign.IsValid() {
		w.add("type %s = %s", name, w.expr(s.Type))
		return
	}
	switch t := s.Type.(type) {
	case *ast.StructType:
		w.add("type %s struct", name)
		for _, f := range t.Fields.List {
			if len(f.Names) == 0 {
				w.add("type %s struct, embedded %s", name, w.expr(f.Type))
			}
			for _, n := range f.Names {
				if n.IsExported() {
					w.add("type %s struct, %s %s", name, n.Name, w.expr(f.Type))
				}
			}
		}
	case *ast.InterfaceType:
		w.add("type %s interface", name)
		for _, m := range t.Methods.List {
			if len(m.Names) == 0 {
				w.add("type %s interface, embedded %s", name, w.expr(m.Type))
				continue
			}
			if ft, ok := m.Type.(*ast.FuncType); ok && m.Names[0].IsExported() {
				w.add("type %s interface, %s%s", name, m.Names[0].Name, w.signature(ft))
			}
		}
	default:
		w.add("type %s %s", name, w.expr(s.Type))
	}
}

// TestAPIDiffNamesEveryChange checks the comparison itself: a line added,
// removed or changed in the API is reported, so TestAPI cannot pass over
// a changed signature.
func TestAPIDiffNamesEveryChange(t *testing.T) {
	want := "pkg p, func A() error\npkg p, func B(int)\npkg p, func C()\n"
	got := "pkg p, func A() error\npkg p, func B(string)\npkg p, func D()\n"
	added, removed := diff(want, got)
	if !slices.Equal(added, []string{"pkg p, func B(string)", "pkg p, func D()"}) ||
		!slices.Equal(removed, []string{"pkg p, func B(int)", "pkg p, func C()"}) {
		t.Errorf("added %q, removed %q", added, removed)
	}
	if a, r := diff(want, want); len(a)+len(r) > 0 {
		t.Errorf("an unchanged API differs: added %q, removed %q", a, r)
	}
}
