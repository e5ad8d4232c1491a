package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// pki is the control plane's key material, as files in one directory: a
// CA, the API server's serving certificate for 127.0.0.1, a client
// certificate in the group system:masters (the test, the controller manager
// and the scheduler present it) and the service-account signing key.
type pki struct {
	dir                     string
	caCert                  *x509.Certificate
	caKey                   *ecdsa.PrivateKey
	CA, Serving, ServingKey string
	Client, ClientKey       string
	SAKey, SAPub            string // the service-account signing key, its public key
	serial                  int64
}

// newPKI writes a fresh pki into dir.
func newPKI(tb testing.TB, dir string) *pki {
	tb.Helper()
	p := &pki{dir: dir, caKey: newKey(tb)}
	p.caCert = p.template("chaosload-e2e-ca")
	p.caCert.IsCA, p.caCert.BasicConstraintsValid, p.caCert.KeyUsage = true, true, x509.KeyUsageCertSign
	p.CA, _ = p.issue(tb, "ca", p.caCert, p.caKey)

	serving := p.template("kube-apiserver")
	serving.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(10, 0, 0, 1)}
	serving.DNSNames = []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"}
	serving.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	p.Serving, p.ServingKey = p.issue(tb, "serving", serving, newKey(tb))

	client := p.template("chaosload-e2e")
	client.Subject.Organization = []string{"system:masters"}
	client.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	p.Client, p.ClientKey = p.issue(tb, "client", client, newKey(tb))

	sa := newKey(tb)
	p.SAKey = p.writeKey(tb, "sa.key", sa)
	pub, err := x509.MarshalPKIXPublicKey(sa.Public())
	if err != nil {
		tb.Fatalf("encode the service-account public key: %v", err)
	}
	p.SAPub = p.write(tb, "sa.pub", "PUBLIC KEY", pub)
	return p
}

// template is a certificate valid for a day, named cn.
func (p *pki) template(cn string) *x509.Certificate {
	p.serial++
	return &x509.Certificate{SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature}
}

// issue signs tmpl's certificate for key with the CA (the CA's own
// certificate when tmpl is the CA's) and writes both; it returns their paths.
func (p *pki) issue(tb testing.TB, name string, tmpl *x509.Certificate, key *ecdsa.PrivateKey) (cert, keyFile string) {
	tb.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, key.Public(), p.caKey)
	if err != nil {
		tb.Fatalf("issue the %s certificate: %v", name, err)
	}
	return p.write(tb, name+".crt", "CERTIFICATE", der), p.writeKey(tb, name+".key", key)
}

// writeKey writes key as PKCS #8 PEM.
func (p *pki) writeKey(tb testing.TB, name string, key *ecdsa.PrivateKey) string {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatalf("encode %s: %v", name, err)
	}
	return p.write(tb, name, "PRIVATE KEY", der)
}

// write writes one PEM block to dir/name and returns its path.
func (p *pki) write(tb testing.TB, name, kind string, der []byte) string {
	tb.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		tb.Fatalf("write %s: %v", name, err)
	}
	return path
}

// kubeconfig writes a kubeconfig for server with the client certificate
// and returns its path.
func (p *pki) kubeconfig(tb testing.TB, server string) string {
	tb.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["e2e"] = &clientcmdapi.Cluster{Server: server, CertificateAuthority: p.CA}
	cfg.AuthInfos["e2e"] = &clientcmdapi.AuthInfo{ClientCertificate: p.Client, ClientKey: p.ClientKey}
	cfg.Contexts["e2e"] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: "e2e"}
	cfg.CurrentContext = "e2e"
	path := filepath.Join(p.dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		tb.Fatalf("write the kubeconfig: %v", err)
	}
	return path
}

// newKey is a fresh P-256 key.
func newKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("generate a key: %v", err)
	}
	return key
}
