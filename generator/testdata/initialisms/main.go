// Command initialisms uses the Go names the generator derives with initialisms: a record
// api_key is APIKey, post_ids is PostIDs, url is URL, the enum value ui is UI.
package main

import (
	"context"
	"fmt"
	"os"

	"gentest/initialisms"
)

func main() {
	ctx := context.Background()
	keys, err := initialisms.NewAPIKeyRepository(ctx, nil, "mem://")
	if err != nil {
		fmt.Println("FAIL:", err)
		os.Exit(1)
	}
	via := initialisms.APIKeyViaUI
	k, err := keys.Create(ctx, initialisms.APIKey{KeyID: "k1", PostIDs: []string{"0190a0a0-0000-7000-8000-000000000001"},
		URL: ptr("https://example.com"), ImageURLs: []string{"a.png"}, HTTPStatus: ptr(int64(200)), OwnerUID: ptr("u"),
		DBTTL: ptr(int64(60)), TLSCertPem: ptr("pem"), Via: &via, Rams: ptr(int64(2))})
	f := initialisms.APIKeyFields
	found, ferr := keys.Find(ctx, initialisms.APIKeyQuery().Where(f.URL.EQ("https://example.com"), f.Via.IN(initialisms.APIKeyViaAPI, initialisms.APIKeyViaUI, initialisms.APIKeyViaCPUVM, initialisms.APIKeyViaJSONRPC)))
	if err != nil || ferr != nil || len(found) != 1 || found[0].KeyID != k.KeyID {
		fmt.Println("FAIL:", err, ferr, found)
		os.Exit(1)
	}
	fmt.Println("ok")
}

func ptr[T any](v T) *T { return &v }
