package sdtls

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The ```go block of the package's README.md is a whole program that
// builds against this package and runs as shown.
func TestReadmeExampleBuilds(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	m := regexp.MustCompile("(?s)\n```go\n(.*?)\n```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no ```go block")
	}
	if testing.Short() {
		t.Skip("builds a program")
	}
	here, _ := filepath.Abs(".")
	dir := t.TempDir()
	files := map[string]string{
		"main.go": string(m[1]) + "\n",
		"go.mod": "module example.test/readme\n\ngo 1.24\n\nrequire sdtls.dev/sdtls v0.0.0\n\n" +
			"replace sdtls.dev/sdtls => " + here + "\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(gobin, "build", "-o", filepath.Join(dir, "readme"), ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the README's Go example does not build: %v\n%s", err, out)
	}
	// And it runs as shown: an echo through its own server on a free port.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(dir, "readme")).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "hello (") {
		t.Fatalf("the README's Go example printed %q (%v), want \"hello (...)\"", out, err)
	}
}
