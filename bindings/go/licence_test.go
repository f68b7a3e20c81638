// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The module's zip, what `go get` fetches, holds only the files under
// bindings/go and leaves symbolic links out: LICENSE and NOTICE here are
// regular files, copies of the repository's own, which they must equal.
func TestModuleCarriesLicenceFiles(t *testing.T) {
	names := []string{"LICENSE", "NOTICE"}
	for _, name := range names {
		fi, err := os.Lstat(name)
		if err != nil {
			t.Fatalf("the module has no %s: %v", name, err)
		}
		if !fi.Mode().IsRegular() {
			t.Fatalf("%s is not a regular file (%v): a module zip leaves it out", name, fi.Mode())
		}
	}
	for _, name := range names {
		repo, err := os.ReadFile(filepath.Join("..", "..", name))
		if err != nil {
			t.Skip("not in the sdtls repository: nothing to compare with")
		}
		here, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(here, repo) {
			t.Errorf("bindings/go/%s differs from the repository's %s: copy it again", name, name)
		}
	}
}
