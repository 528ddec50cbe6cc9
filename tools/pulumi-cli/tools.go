//go:build tools

// The Pulumi CLI the tests run (scripts/pulumi-cli.sh builds it from the Go module proxy): this
// file only pins its module in go.mod and go.sum; nothing of it is the project's code.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
