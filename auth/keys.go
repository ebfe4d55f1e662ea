package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFileName is the generated signing key file inside the data directory.
const KeyFileName = "jwt-keys"

// LoadKeys builds the key set: secret (from CMS_JWT_SECRET) when given,
// else the keys kept in dataDir, generated on first use with mode 0600.
// The key file holds one base64 key per line, the signing key first; older
// lines are still accepted, which is how a generated key is rotated.
func LoadKeys(dataDir string, secret []byte, previous [][]byte) (ks *KeySet, generated bool, err error) {
	if secret != nil {
		ks, err = NewKeySet(secret, previous...)
		if err != nil {
			return nil, false, fmt.Errorf("CMS_JWT_SECRET: %w", err)
		}
		return ks, false, nil
	}
	path := filepath.Join(dataDir, KeyFileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, 48)
		if _, err := rand.Read(key); err != nil {
			return nil, false, fmt.Errorf("generate signing key: %w", err)
		}
		line := base64.StdEncoding.EncodeToString(key) + "\n"
		// O_EXCL: two processes starting at once must not each write a key.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, err = f.WriteString(line)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, false, fmt.Errorf("CMS_DATA_DIR: write signing key: %w", err)
			}
			generated = true
		} else if !errors.Is(err, fs.ErrExist) {
			return nil, false, fmt.Errorf("CMS_DATA_DIR: write signing key: %w", err)
		}
		if data, err = os.ReadFile(path); err != nil {
			return nil, false, fmt.Errorf("CMS_DATA_DIR: read signing key: %w", err)
		}
	} else if err != nil {
		return nil, false, fmt.Errorf("CMS_DATA_DIR: read signing key: %w", err)
	}
	var keys [][]byte
	for i, line := range strings.Fields(string(data)) {
		k, err := base64.StdEncoding.DecodeString(line)
		if err != nil {
			return nil, false, fmt.Errorf("CMS_DATA_DIR: %s line %d is not base64", KeyFileName, i+1)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, false, fmt.Errorf("CMS_DATA_DIR: %s holds no key", KeyFileName)
	}
	ks, err = NewKeySet(keys[0], keys[1:]...)
	if err != nil {
		return nil, false, fmt.Errorf("CMS_DATA_DIR: %s: %w", KeyFileName, err)
	}
	return ks, generated, nil
}
