package s3_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/repokit/repokit/internal/servicetest"
	"github.com/repokit/repokit/runtime/backends/s3"
	"github.com/repokit/repokit/runtime/pool"
)

// testConfig returns the config of the test server (servicetest.S3Config), skipping the
// test when it is not running (failing it under CI).
func testConfig(t testing.TB) pool.S3PoolConfig {
	t.Helper()
	cfg := servicetest.S3Config(t)
	cfg.MaxConnections = 16
	return cfg
}

var prefixSeq atomic.Int64

// freshPrefix returns a config prefix no other test uses, and removes every object under
// it when the test ends.
func freshPrefix(t testing.TB, m *pool.Manager, cfg pool.S3PoolConfig) string {
	t.Helper()
	p := fmt.Sprintf("repokit-test/%s/%d-%d", t.Name(), time.Now().UnixNano(), prefixSeq.Add(1))
	servicetest.Cleanup(t, m, cfg, s3.Hooks(), "cleanup of "+p+"/", func(ctx context.Context, c *s3.Client) error {
		return removeObjects(ctx, c.API, cfg.Bucket, p+"/")
	})
	return p
}

// removeObjects deletes every object under prefix in the bucket.
func removeObjects(ctx context.Context, api *awss3.Client, bucket, prefix string) error {
	p := awss3.NewListObjectsV2Paginator(api, &awss3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]types.ObjectIdentifier, len(page.Contents))
		for i, o := range page.Contents {
			ids[i] = types.ObjectIdentifier{Key: o.Key}
		}
		out, err := api.DeleteObjects(ctx, &awss3.DeleteObjectsInput{Bucket: &bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return err
		}
		if len(out.Errors) > 0 {
			return fmt.Errorf("%d objects not deleted: %s", len(out.Errors), aws.ToString(out.Errors[0].Message))
		}
	}
	return nil
}
