package pool

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"log/slog"
	"reflect"
	"strconv"
	"sync/atomic"
	"time"
)

// Config is what a pool is created from: one of PostgresPoolConfig, ElasticsearchPoolConfig,
// S3PoolConfig, or any type of your own. Two configs with equal Keys share a pool.
type Config interface {
	// Backend names the kind of backend, e.g. "postgres".
	Backend() string
	// Redacted describes the config without any secret; it is what logs and Stats show.
	Redacted() string
	// Key is the identity of the config, built with a KeyBuilder from every
	// connection-relevant field, credentials included.
	Key() Key
}

// Validator is implemented by configs that can check themselves. Get calls it before the
// first pool of an identity is created.
type Validator interface {
	Validate() error
}

// SecretRedactor is implemented by configs that hold secrets. RedactSecrets replaces every
// occurrence of a secret (raw or URL-escaped) in s; the Manager applies it to error texts it
// logs or keeps in Stats.
type SecretRedactor interface {
	RedactSecrets(s string) string
}

// Key is the identity of a Config: an HMAC-SHA-256 over a length-prefixed canonical encoding
// of the backend and every connection-relevant field. The HMAC key is random per process, so a
// Key reveals nothing about the credentials that went into it, and Keys are only meaningful
// inside the process that computed them. The zero Key is not produced by any builder.
type Key struct {
	sum [sha256.Size]byte
}

// String returns a short hexadecimal form of the key, safe to log.
func (k Key) String() string { return hex.EncodeToString(k.sum[:8]) }

// IsZero reports whether k is the zero Key.
func (k Key) IsZero() bool { return k == Key{} }

var keySalt = func() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("pool: cannot read random key salt: " + err.Error())
	}
	return b
}()

// KeyBuilder computes a Key. Every field is written as a tag, its name and its value, each
// length-prefixed, so no two different sequences of fields encode alike.
type KeyBuilder struct {
	h   hash.Hash
	buf [binary.MaxVarintLen64]byte
}

// NewKeyBuilder starts a Key for the given backend kind.
func NewKeyBuilder(backend string) *KeyBuilder {
	b := &KeyBuilder{h: hmac.New(sha256.New, keySalt)}
	b.write('b', "backend", backend)
	return b
}

func (b *KeyBuilder) write(tag byte, name, value string) {
	b.h.Write([]byte{tag})
	n := binary.PutUvarint(b.buf[:], uint64(len(name)))
	b.h.Write(b.buf[:n])
	b.h.Write([]byte(name))
	n = binary.PutUvarint(b.buf[:], uint64(len(value)))
	b.h.Write(b.buf[:n])
	b.h.Write([]byte(value))
}

// String adds a text field.
func (b *KeyBuilder) String(name, value string) *KeyBuilder { b.write('s', name, value); return b }

// Strings adds a list field; order matters.
func (b *KeyBuilder) Strings(name string, values []string) *KeyBuilder {
	b.write('l', name, strconv.Itoa(len(values)))
	for _, v := range values {
		b.write('e', name, v)
	}
	return b
}

// Int adds an integer field.
func (b *KeyBuilder) Int(name string, v int64) *KeyBuilder {
	b.write('i', name, strconv.FormatInt(v, 10))
	return b
}

// Bool adds a boolean field.
func (b *KeyBuilder) Bool(name string, v bool) *KeyBuilder {
	b.write('t', name, strconv.FormatBool(v))
	return b
}

// Duration adds a duration field.
func (b *KeyBuilder) Duration(name string, d time.Duration) *KeyBuilder {
	b.write('d', name, strconv.FormatInt(int64(d), 10))
	return b
}

// Secret adds a credential. It enters the keyed hash like any other field and is never
// stored; an empty secret and a missing one are distinct from any non-empty value.
func (b *KeyBuilder) Secret(name, value string) *KeyBuilder { b.write('x', name, value); return b }

// Key returns the finished Key. The builder must not be used afterwards.
func (b *KeyBuilder) Key() Key {
	var k Key
	b.h.Sum(k.sum[:0])
	return k
}

// Prepared is a Config whose identity, description and scope have been computed once. Passing
// a *Prepared to Get is what makes the warm path free of hashing and allocation; passing a
// plain Config works too but computes its Key on every call.
type Prepared struct {
	cfg      Config
	key      Key
	scope    string
	backend  string
	redacted string

	// hint caches the entry this config last resolved to, so the warm path skips the map.
	hint atomic.Pointer[entryHint]
}

type entryHint struct {
	m   *Manager
	typ reflect.Type
	e   entryI
}

// PrepareOption adjusts Prepare.
type PrepareOption func(*Prepared)

// WithScope makes scope part of the identity: the same config under two scopes (two tenants,
// two tests) gets two pools. The scope is shown in Stats and logs, so it must not be a secret.
func WithScope(scope string) PrepareOption { return func(p *Prepared) { p.scope = scope } }

// cloner is implemented by the config types of this package so Prepare can take a deep copy.
type cloner interface{ cloneConfig() Config }

// Prepare snapshots cfg (a deep copy for this package's config types) and computes its
// identity. Later changes to the value cfg came from are not seen. Preparing a *Prepared
// returns a copy with the options applied on top.
func Prepare(cfg Config, opts ...PrepareOption) *Prepared {
	if p, ok := cfg.(*Prepared); ok {
		q := &Prepared{cfg: p.cfg, key: p.key, scope: p.scope, backend: p.backend, redacted: p.redacted}
		for _, o := range opts {
			o(q)
		}
		return q
	}
	if c, ok := cfg.(cloner); ok {
		cfg = c.cloneConfig()
	}
	p := &Prepared{cfg: cfg, key: cfg.Key(), backend: cfg.Backend(), redacted: cfg.Redacted()}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Backend returns the backend kind of the underlying config.
func (p *Prepared) Backend() string { return p.backend }

// Redacted returns the secret-free description of the underlying config.
func (p *Prepared) Redacted() string { return p.redacted }

// String is Redacted, so printing a Prepared never shows a secret.
func (p *Prepared) String() string { return p.redacted }

// GoString is Redacted, so %#v does not print secrets either.
func (p *Prepared) GoString() string { return "Prepared(" + p.redacted + ")" }

// LogValue makes slog print the redacted form.
func (p *Prepared) LogValue() slog.Value { return slog.StringValue(p.redacted) }

// Key returns the precomputed identity of the underlying config (without the scope).
func (p *Prepared) Key() Key { return p.key }

// Scope returns the scope given with WithScope, or "".
func (p *Prepared) Scope() string { return p.scope }

// Config returns the snapshot of the underlying config; this is what Hooks.Create receives.
func (p *Prepared) Config() Config { return p.cfg }

// Validate forwards to the underlying config when it implements Validator.
func (p *Prepared) Validate() error {
	if v, ok := p.cfg.(Validator); ok {
		return v.Validate()
	}
	return nil
}

// RedactSecrets forwards to the underlying config when it implements SecretRedactor.
func (p *Prepared) RedactSecrets(s string) string { return redactWith(p.cfg, s) }

func redactWith(cfg Config, s string) string {
	if r, ok := cfg.(SecretRedactor); ok {
		return r.RedactSecrets(s)
	}
	return s
}
