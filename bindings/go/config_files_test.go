package sdtls

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A file setter's error names the file and why, as the C tool does.
func TestConfigFileErrorsNameTheFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing-ca.pem")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Dial(ctx, "udp4", "127.0.0.1:9", &Config{RootCAFile: missing, ServerName: "localhost"})
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing CA file: %v", err)
	}

	notPEM := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Listen("udp4", "127.0.0.1:0", &Config{CertificateFile: notPEM, PrivateKeyFile: notPEM})
	if err == nil || !strings.Contains(err.Error(), notPEM) || !strings.Contains(err.Error(), "no usable certificate") {
		t.Fatalf("a file that holds no certificate: %v", err)
	}
}
