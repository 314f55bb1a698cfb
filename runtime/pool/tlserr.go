package pool

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
)

// IsCertificateError reports whether err is a TLS certificate the other side presented or
// refused: a server certificate signed by a CA that ca_certs does not hold, expired or not
// yet valid, or issued for another host name, or a client certificate the server rejected
// (a TLS alert such as bad_certificate or unknown_ca). Such an error is a property of the
// settings, not of the server's state: retrying cannot help, so backends report it as
// ErrInvalidConfig when they create a client or pool.
func IsCertificateError(err error) bool {
	if err == nil {
		return false
	}
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		ci x509.CertificateInvalidError
		hn x509.HostnameError
		al tls.AlertError
	)
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &ci) || errors.As(err, &hn) {
		return true
	}
	// A TLS alert the peer sent during the handshake (crypto/tls reports it as a "remote
	// error"): it refused our certificate or TLS settings.
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "remote error" {
		return true
	}
	if errors.As(err, &al) {
		switch uint8(al) {
		case 42, 43, 44, 45, 46, 48, 116: // bad, unsupported, revoked, expired, unknown certificate; unknown CA; certificate required
			return true
		}
	}
	return false
}
