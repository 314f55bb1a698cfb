package migrate

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// UpgradeJSON returns data, the JSON object of a document of the record written at version
// from, in the newest version's form (see Upgrade). Members named in meta (a backend's own
// bookkeeping, such as S3's "@rev") are removed first. Numbers keep their exact text. A
// document already at the newest version is returned as it is.
func (u *Upgrader) UpgradeJSON(data []byte, from int64, meta ...string) ([]byte, error) {
	if from >= u.Version() {
		return data, nil
	}
	doc, err := DecodeDocument(data)
	if err != nil {
		return nil, err
	}
	for _, k := range meta {
		delete(doc, k)
	}
	if err := u.Upgrade(doc, from); err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}

// DecodeDocument decodes a JSON object the way Upgrade expects it (numbers as json.Number).
func DecodeDocument(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("migrate: decoding a document: %w", err)
	}
	if doc == nil {
		return nil, fmt.Errorf("migrate: the document is not a JSON object")
	}
	return doc, nil
}
