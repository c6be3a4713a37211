package bank

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// PutJSON stores v as a JSON object under key.
func PutJSON(ctx context.Context, b Bank, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return b.Put(ctx, key, bytes.NewReader(data))
}

// GetJSON reads the JSON object under key into v.
func GetJSON(ctx context.Context, b Bank, key string, v any) error {
	data, err := GetBytes(ctx, b, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}

// GetBytes reads a whole (small) object.
func GetBytes(ctx context.Context, b Bank, key string) ([]byte, error) {
	rc, err := b.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return data, nil
}

// PutBytes stores a small object.
func PutBytes(ctx context.Context, b Bank, key string, data []byte) error {
	return b.Put(ctx, key, bytes.NewReader(data))
}

// PrefixDeleter is a Bank that deletes a prefix itself, with what it keeps
// beside the objects (a Swift bank: the segments of uploads that never
// completed).
type PrefixDeleter interface {
	DeletePrefix(ctx context.Context, prefix string) error
}

// DeletePrefix deletes every object under prefix. It pages with a marker,
// so a bank whose listings lag behind its deletes cannot make it loop.
func DeletePrefix(ctx context.Context, b Bank, prefix string) error {
	if pd, ok := b.(PrefixDeleter); ok {
		return pd.DeletePrefix(ctx, prefix)
	}
	return deleteListed(ctx, b, prefix)
}

func deleteListed(ctx context.Context, b Bank, prefix string) error {
	marker := ""
	for {
		keys, err := b.List(ctx, ListOptions{Prefix: prefix, Marker: marker, Limit: 1000})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := b.Delete(ctx, k); err != nil {
				return err
			}
		}
		if len(keys) < 1000 {
			return nil
		}
		marker = keys[len(keys)-1]
	}
}

// CopyPrefix copies every object under prefix from to the same relative key
// under prefix to, streaming each; copied receives each object's size.
func CopyPrefix(ctx context.Context, b Bank, from, to string, copied func(int64)) error {
	marker := ""
	for {
		keys, err := b.List(ctx, ListOptions{Prefix: from, Marker: marker, Limit: 1000})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := copyObject(ctx, b, k, to+strings.TrimPrefix(k, from), copied); err != nil {
				return err
			}
		}
		if len(keys) < 1000 {
			return nil
		}
		marker = keys[len(keys)-1]
	}
}

func copyObject(ctx context.Context, b Bank, from, to string, copied func(int64)) error {
	rc, err := b.Get(ctx, from)
	if err != nil {
		return err
	}
	defer rc.Close()
	cr := &countingReader{r: rc}
	if err := b.Put(ctx, to, cr); err != nil {
		return fmt.Errorf("copy %s to %s: %w", from, to, err)
	}
	if copied != nil {
		copied(cr.n)
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
