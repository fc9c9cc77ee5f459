// Command madmin-golden is the reference the program's madmin client (components/hub/s3/madmin.ts) is
// tested against: madmin-go itself, from Debian's golang-github-minio-madmin-go-dev (2.0.7, built in
// GOPATH mode from /usr/share/gocode by test/support/madminGolden.ts), with its own EncryptData,
// DecryptData and AdminClient. Nothing here re-implements madmin: each command calls the library.
//
//	madmin-golden encrypt PASSWORD      < plaintext  > ciphertext   (madmin.EncryptData)
//	madmin-golden decrypt PASSWORD      < ciphertext > plaintext    (madmin.DecryptData; exit 3 when it fails)
//	madmin-golden call ENDPOINT ACCESS SECRET OP < args.json          (one AdminClient call)
//
// `call` sends one request with madmin-go's AdminClient to ENDPOINT (the test's recording server, plain
// HTTP) and prints the call's error, if any, on stdout as JSON: the recorder's answers need not satisfy
// the client, only the request it sent matters.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/minio/madmin-go"
)

type args struct {
	AccessKey string          `json:"accessKey"`
	SecretKey string          `json:"secretKey"`
	Status    string          `json:"status"`
	Name      string          `json:"name"`
	Policy    json.RawMessage `json:"policy"`
	Policies  []string        `json:"policies"`
	User      string          `json:"user"`
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: madmin-golden encrypt|decrypt PASSWORD | call ENDPOINT ACCESS SECRET OP")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "encrypt":
		in, err := io.ReadAll(os.Stdin)
		check(err)
		out, err := madmin.EncryptData(os.Args[2], in)
		check(err)
		_, err = os.Stdout.Write(out)
		check(err)
	case "decrypt":
		out, err := madmin.DecryptData(os.Args[2], os.Stdin)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		_, err = os.Stdout.Write(out)
		check(err)
	case "call":
		if len(os.Args) != 6 {
			fmt.Fprintln(os.Stderr, "usage: madmin-golden call ENDPOINT ACCESS SECRET OP < args.json")
			os.Exit(2)
		}
		var a args
		check(json.NewDecoder(os.Stdin).Decode(&a))
		client, err := madmin.New(os.Args[2], os.Args[3], os.Args[4], false)
		check(err)
		ctx := context.Background()
		switch op := os.Args[5]; op {
		case "add-user":
			err = client.AddUser(ctx, a.AccessKey, a.SecretKey)
		case "set-user-status":
			err = client.SetUserStatus(ctx, a.AccessKey, madmin.AccountStatus(a.Status))
		case "user-info":
			_, err = client.GetUserInfo(ctx, a.AccessKey)
		case "list-users":
			_, err = client.ListUsers(ctx)
		case "remove-user":
			err = client.RemoveUser(ctx, a.AccessKey)
		case "add-canned-policy":
			err = client.AddCannedPolicy(ctx, a.Name, bytes.TrimSpace(a.Policy))
		case "info-canned-policy":
			_, err = client.InfoCannedPolicy(ctx, a.Name)
		case "remove-canned-policy":
			err = client.RemoveCannedPolicy(ctx, a.Name)
		case "attach-policy":
			err = client.AttachPolicy(ctx, madmin.PolicyAssociationReq{Policies: a.Policies, User: a.User})
		case "detach-policy":
			err = client.DetachPolicy(ctx, madmin.PolicyAssociationReq{Policies: a.Policies, User: a.User})
		default:
			fmt.Fprintf(os.Stderr, "unknown operation %q\n", op)
			os.Exit(2)
		}
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		check(json.NewEncoder(os.Stdout).Encode(map[string]string{"error": msg}))
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
