// conngen-cmp runs ArgoCD's own CMP code on a checkout: the cmp-server (cmpserver.NewServer with
// the plugin.yaml read by plugin.ReadPluginConfig) and the repo-server's side of it
// (discovery.DetectConfigManagementPlugin, then GenerateManifest fed by cmp.SendRepoStream, as
// reposerver/repository.generateManifestsCMP does). It is built inside an argo-cd source tree,
// because argo-cd's go.mod replaces modules that a module depending on it cannot:
//
//	git clone --depth 1 -b v3.5.1 https://github.com/argoproj/argo-cd && cd argo-cd
//	mkdir hack/conngen-cmp && cp <this file> hack/conngen-cmp/ && go build -o conngen-cmp ./hack/conngen-cmp
//	ARGOCD_PLUGINSOCKFILEPATH=$(mktemp -d) ARGOCD_CMP_WORKDIR=$(mktemp -d) PATH=<dir with conngen>:$PATH \
//	  ./conngen-cmp <dir with plugin.yaml> <repo root> <app path> <plugin name or ""> [NAME=VALUE ...]
//
// The NAME=VALUE pairs are the repo-server's build environment (ARGOCD_APP_*, ARGOCD_ENV_*, PARAM_*);
// the process's own environment is the sidecar's. Prints one JSON object: {"error": "..."} or
// {"manifests": [...]}. docs/integrations/argocd.md lists what it showed.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	grpc_retry "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/retry"

	"github.com/argoproj/argo-cd/v3/cmpserver"
	"github.com/argoproj/argo-cd/v3/cmpserver/plugin"
	"github.com/argoproj/argo-cd/v3/common"
	"github.com/argoproj/argo-cd/v3/util/app/discovery"
	"github.com/argoproj/argo-cd/v3/util/cmp"
)

func main() {
	out := map[string]any{}
	manifests, err := run(os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5:])
	if err != nil {
		out["error"] = err.Error()
	} else {
		out["manifests"] = manifests
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}

func run(configDir, repoRoot, appRel, pluginName string, env []string) ([]string, error) {
	config, err := plugin.ReadPluginConfig(configDir)
	if err != nil {
		return nil, fmt.Errorf("reading plugin config: %w", err)
	}
	server, err := cmpserver.NewServer(plugin.CMPServerInitConstants{PluginConfig: *config})
	if err != nil {
		return nil, err
	}
	go server.Run()
	sock := filepath.Join(common.GetPluginSockFilePath(), config.Metadata.Name+".sock")
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	appPath := filepath.Join(repoRoot, appRel)
	conn, client, err := discovery.DetectConfigManagementPlugin(ctx, appPath, repoRoot, pluginName, env, nil)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stream, err := client.GenerateManifest(ctx, grpc_retry.Disable())
	if err != nil {
		return nil, err
	}
	if err := cmp.SendRepoStream(ctx, appPath, repoRoot, stream, env, nil); err != nil {
		return nil, err
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return nil, err
	}
	return resp.Manifests, nil
}
