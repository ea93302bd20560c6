from generator.render.runtime import TemplateRuntimeError, Undefined, internalcode, missing, str_join
name = None

def root(context, missing=missing, environment=environment):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_contexts = resolve('contexts')
    try:
        t_1 = environment.filters['join']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'join' found.")
    try:
        t_2 = environment.filters['length']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No filter named 'length' found.")
    try:
        t_3 = environment.filters['yaml']
    except KeyError:
        @internalcode
        def t_3(*unused):
            raise TemplateRuntimeError("No filter named 'yaml' found.")
    try:
        t_4 = environment.tests['none']
    except KeyError:
        @internalcode
        def t_4(*unused):
            raise TemplateRuntimeError("No test named 'none' found.")
    pass
    for l_1_job in (undefined(name='contexts') if l_0_contexts is missing else l_0_contexts):
        l_1_names = missing
        _loop_vars = {}
        pass
        yield '---\n'
        yield 'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name:'
        yield str(t_3(environment.getattr(l_1_job, 'name'), 2, 4))
        yield '\n'
        if environment.getattr(l_1_job, 'namespace'):
            pass
            yield '  namespace:'
            yield str(t_3(environment.getattr(l_1_job, 'namespace'), 2, 9))
            yield '\n'
        yield '  labels:'
        yield str(t_3(environment.getattr(l_1_job, 'labels'), 2, 6))
        yield '\n'
        if environment.getattr(l_1_job, 'annotations'):
            pass
            yield '  annotations:'
            yield str(t_3(environment.getattr(l_1_job, 'annotations'), 2, 11))
            yield '\n'
        yield 'spec:\n  backoffLimit:'
        yield str(t_3(environment.getattr(l_1_job, 'backoff_limit'), 2, 12))
        yield '\n'
        if (not t_4(environment.getattr(l_1_job, 'ttl_seconds_after_finished'))):
            pass
            yield '  ttlSecondsAfterFinished:'
            yield str(t_3(environment.getattr(l_1_job, 'ttl_seconds_after_finished'), 2, 23))
            yield '\n'
        if (not t_4(environment.getattr(l_1_job, 'active_deadline_seconds'))):
            pass
            yield '  activeDeadlineSeconds:'
            yield str(t_3(environment.getattr(l_1_job, 'active_deadline_seconds'), 2, 21))
            yield '\n'
        yield '  template:\n    metadata:\n      labels:'
        yield str(t_3(environment.getattr(l_1_job, 'labels'), 6, 6))
        yield '\n'
        if environment.getattr(l_1_job, 'pod_annotations'):
            pass
            yield '      annotations:'
            yield str(t_3(environment.getattr(l_1_job, 'pod_annotations'), 6, 11))
            yield '\n'
        yield '    spec:\n      restartPolicy: Never\n'
        if environment.getattr(l_1_job, 'service_account_name'):
            pass
            yield '      serviceAccountName:'
            yield str(t_3(environment.getattr(l_1_job, 'service_account_name'), 6, 18))
            yield '\n'
        if (environment.getattr(l_1_job, 'git_clone') or environment.getattr(l_1_job, 'context_fetch')):
            pass
            yield '      initContainers:\n'
            if environment.getattr(l_1_job, 'git_clone'):
                pass
                yield '      - name: git-clone\n        image:'
                yield str(t_3(environment.getattr(environment.getattr(l_1_job, 'git_clone'), 'image'), 8, 5))
                yield '\n        command:\n        - /bin/sh\n        - -c\n        args:\n        - |\n          set -eu\n          git -C "$WORKSPACE" init -q\n          git -C "$WORKSPACE" remote add origin "$GIT_URL"\n          if [ -n "${GIT_PASSWORD:-}${GIT_TOKEN:-}" ]; then\n            git -C "$WORKSPACE" config credential.helper \\\n              \'!f() { echo "username=${GIT_USERNAME:-oauth2}"; echo "password=${GIT_PASSWORD:-$GIT_TOKEN}"; }; f\'\n          fi\n          git -C "$WORKSPACE" fetch -q --depth 1 origin "${GIT_REVISION:-HEAD}"\n          git -C "$WORKSPACE" checkout -q FETCH_HEAD\n        env:\n        - name: WORKSPACE\n          value:'
                yield str(t_3(environment.getattr(l_1_job, 'workspace'), 10, 5))
                yield '\n        - name: GIT_URL\n          value:'
                yield str(t_3(environment.getattr(environment.getattr(l_1_job, 'git_clone'), 'url'), 10, 5))
                yield '\n'
                if environment.getattr(environment.getattr(l_1_job, 'git_clone'), 'revision'):
                    pass
                    yield '        - name: GIT_REVISION\n          value:'
                    yield str(t_3(environment.getattr(environment.getattr(l_1_job, 'git_clone'), 'revision'), 10, 5))
                    yield '\n'
                for l_2_entry in environment.getattr(environment.getattr(l_1_job, 'git_clone'), 'env'):
                    _loop_vars = {}
                    pass
                    yield '        -'
                    yield str(t_3(l_2_entry, 8))
                    yield '\n'
                l_2_entry = missing
                yield '        volumeMounts:\n        - name:'
                yield str(t_3(environment.getattr(environment.getattr(l_1_job, 'git_clone'), 'volume'), 10, 4))
                yield '\n          mountPath:'
                yield str(t_3(environment.getattr(l_1_job, 'workspace'), 10, 9))
                yield '\n'
                for l_2_mount in environment.getattr(environment.getattr(l_1_job, 'git_clone'), 'mounts'):
                    _loop_vars = {}
                    pass
                    yield '        -'
                    yield str(t_3(l_2_mount, 8))
                    yield '\n'
                l_2_mount = missing
            if environment.getattr(l_1_job, 'context_fetch'):
                pass
                yield '      - name: fetch-context\n        image:'
                yield str(t_3(environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'image'), 8, 5))
                yield '\n        command:\n        - /bin/sh\n        - -c\n        args:\n        - |\n          set -eu\n          case "$CONTEXT_KIND" in\n            s3)\n              export RCLONE_CONFIG_SRC_TYPE=s3 RCLONE_CONFIG_SRC_PROVIDER=AWS RCLONE_CONFIG_SRC_ENV_AUTH=true\n              if [ -n "${AWS_REGION:-}" ]; then export RCLONE_CONFIG_SRC_REGION="$AWS_REGION"; fi\n              if [ -n "${S3_ENDPOINT:-}" ]; then\n                export RCLONE_CONFIG_SRC_PROVIDER=Other RCLONE_CONFIG_SRC_ENDPOINT="$S3_ENDPOINT"\n              fi ;;\n            gcs)\n              export RCLONE_CONFIG_SRC_TYPE="google cloud storage" RCLONE_CONFIG_SRC_ENV_AUTH=true ;;\n            wasb)\n              export RCLONE_CONFIG_SRC_TYPE=azureblob RCLONE_CONFIG_SRC_ACCOUNT="$AZURE_STORAGE_ACCOUNT"\n              if [ -n "${AZURE_STORAGE_ACCESS_KEY:-}" ]; then\n                export RCLONE_CONFIG_SRC_KEY="$AZURE_STORAGE_ACCESS_KEY"\n              else\n                export RCLONE_CONFIG_SRC_ENV_AUTH=true\n              fi ;;\n          esac\n          rclone copyto "src:$CONTEXT_OBJECT" "$WORKSPACE/.context.tar.gz"\n          tar -xzf "$WORKSPACE/.context.tar.gz" -C "$WORKSPACE"\n          rm "$WORKSPACE/.context.tar.gz"\n        env:\n        - name: WORKSPACE\n          value:'
                yield str(t_3(environment.getattr(l_1_job, 'workspace'), 10, 5))
                yield '\n        - name: CONTEXT_KIND\n          value:'
                yield str(t_3(environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'kind'), 10, 5))
                yield '\n        - name: CONTEXT_OBJECT\n          value:'
                yield str(t_3(environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'source'), 10, 5))
                yield '\n'
                if environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'account'):
                    pass
                    yield '        - name: AZURE_STORAGE_ACCOUNT\n          value:'
                    yield str(t_3(environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'account'), 10, 5))
                    yield '\n'
                for l_2_entry in environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'env'):
                    _loop_vars = {}
                    pass
                    yield '        -'
                    yield str(t_3(l_2_entry, 8))
                    yield '\n'
                l_2_entry = missing
                if environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'env_from'):
                    pass
                    yield '        envFrom:'
                    yield str(t_3(environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'env_from'), 8, 7))
                    yield '\n'
                yield '        volumeMounts:\n        - name:'
                yield str(t_3(environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'volume'), 10, 4))
                yield '\n          mountPath:'
                yield str(t_3(environment.getattr(l_1_job, 'workspace'), 10, 9))
                yield '\n'
                for l_2_mount in environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'mounts'):
                    _loop_vars = {}
                    pass
                    yield '        -'
                    yield str(t_3(l_2_mount, 8))
                    yield '\n'
                l_2_mount = missing
        yield '      containers:\n'
        yield '      - name: buildkit\n        image:'
        yield str(t_3(environment.getattr(l_1_job, 'image'), 8, 5))
        yield '\n        command:\n'
        if environment.getattr(l_1_job, 'registry_ca'):
            pass
            yield '        - /bin/sh\n        - -c\n        - |\n          set -eu\n          mkdir -p "$HOME/.config/buildkit"\n          printf \'[registry."%s"]\\n  ca = ["%s"]\\n  http = false\\n\' "$REGISTRY_HOST" "$REGISTRY_CA_FILE" \\\n            > "$HOME/.config/buildkit/buildkitd.toml"\n          exec buildctl-daemonless.sh "$@"\n        - buildctl-daemonless.sh\n'
        else:
            pass
            yield '        - buildctl-daemonless.sh\n'
        yield '        args:\n        - build\n        - --frontend=dockerfile.v0\n        -'
        yield str(t_3(str_join(('--local=context=', environment.getattr(l_1_job, 'context_dir'), )), 8))
        yield '\n        -'
        yield str(t_3(str_join(('--local=dockerfile=', environment.getattr(l_1_job, 'dockerfile_dir'), )), 8))
        yield '\n        -'
        yield str(t_3(str_join(('--opt=filename=', environment.getattr(l_1_job, 'dockerfile_name'), )), 8))
        yield '\n'
        for (l_2_name, l_2_value) in environment.getattr(l_1_job, 'build_args'):
            _loop_vars = {}
            pass
            yield '        -'
            yield str(t_3(str_join(('--opt=build-arg:', l_2_name, '=', l_2_value, )), 8))
            yield '\n'
        l_2_name = l_2_value = missing
        if environment.getattr(l_1_job, 'cache'):
            pass
            yield '        -'
            yield str(t_3(str_join(('--export-cache=type=registry,ref=', environment.getattr(l_1_job, 'cache_repository'), ',mode=max', )), 8))
            yield '\n        -'
            yield str(t_3(str_join(('--import-cache=type=registry,ref=', environment.getattr(l_1_job, 'cache_repository'), )), 8))
            yield '\n'
        l_1_names = t_1(context.eval_ctx, environment.getattr(l_1_job, 'destinations'), ',')
        _loop_vars['names'] = l_1_names
        yield '        -'
        yield str(t_3(str_join(('--output=type=image,', (str_join(('"name=', (undefined(name='names') if l_1_names is missing else l_1_names), '"', )) if (t_2(environment.getattr(l_1_job, 'destinations')) > 1) else str_join(('name=', (undefined(name='names') if l_1_names is missing else l_1_names), ))), ',push=true', (',registry.insecure=true' if environment.getattr(l_1_job, 'insecure_registries') else ''), )), 8))
        yield '\n        env:\n'
        for l_2_entry in environment.getattr(l_1_job, 'env'):
            _loop_vars = {}
            pass
            yield '        -'
            yield str(t_3(l_2_entry, 8))
            yield '\n'
        l_2_entry = missing
        if environment.getattr(l_1_job, 'registry_ca'):
            pass
            yield '        - name: REGISTRY_HOST\n          value:'
            yield str(t_3(environment.getattr(environment.getattr(l_1_job, 'registry_ca'), 'host'), 10, 5))
            yield '\n        - name: REGISTRY_CA_FILE\n          value:'
            yield str(t_3(environment.getattr(environment.getattr(l_1_job, 'registry_ca'), 'file'), 10, 5))
            yield '\n'
        if environment.getattr(l_1_job, 'env_from'):
            pass
            yield '        envFrom:'
            yield str(t_3(environment.getattr(l_1_job, 'env_from'), 8, 7))
            yield '\n'
        if environment.getattr(l_1_job, 'security_context'):
            pass
            yield '        securityContext:'
            yield str(t_3(environment.getattr(l_1_job, 'security_context'), 8, 15))
            yield '\n'
        yield '        volumeMounts:'
        yield str(t_3(environment.getattr(l_1_job, 'volume_mounts'), 8, 12))
        yield '\n'
        if environment.getattr(l_1_job, 'resources'):
            pass
            yield '        resources:'
            yield str(t_3(environment.getattr(l_1_job, 'resources'), 8, 9))
            yield '\n'
        if environment.getattr(l_1_job, 'volumes'):
            pass
            yield '      volumes:'
            yield str(t_3(environment.getattr(l_1_job, 'volumes'), 6, 7))
            yield '\n'
    l_1_job = l_1_names = missing

blocks = {}
debug_info = '1=36&5=42&6=44&7=47&9=50&10=52&11=55&14=58&15=60&16=63&18=65&19=68&23=71&24=73&25=76&29=79&30=82&32=84&34=87&5=90&22=92&24=94&25=96&27=99&29=101&30=105&33=109&34=111&35=113&36=117&37=120&5=123&34=125&36=127&38=129&39=131&41=134&43=136&44=140&46=143&47=146&50=149&51=151&52=153&53=157&8=162&10=164&26=171&27=173&28=175&29=177&30=181&32=184&33=187&34=189&36=191&37=194&39=196&40=200&42=203&44=206&46=208&48=210&49=213&51=215&52=218&54=221&55=223&56=226&43=228&44=231'
# generated by scripts/compile-templates from buildkit.yaml.j2 loop: do not edit
# key: ac28004c54e77429954a52108ec6a3271f1ef28c65b03799d92074de6d9b03ab
