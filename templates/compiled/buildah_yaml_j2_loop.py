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
        t_1 = environment.filters['yaml']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'yaml' found.")
    try:
        t_2 = environment.tests['none']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No test named 'none' found.")
    pass
    for l_1_job in (undefined(name='contexts') if l_0_contexts is missing else l_0_contexts):
        _loop_vars = {}
        pass
        yield '---\n'
        yield 'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name:'
        yield str(t_1(environment.getattr(l_1_job, 'name'), 2, 4))
        yield '\n'
        if environment.getattr(l_1_job, 'namespace'):
            pass
            yield '  namespace:'
            yield str(t_1(environment.getattr(l_1_job, 'namespace'), 2, 9))
            yield '\n'
        yield '  labels:'
        yield str(t_1(environment.getattr(l_1_job, 'labels'), 2, 6))
        yield '\n'
        if environment.getattr(l_1_job, 'annotations'):
            pass
            yield '  annotations:'
            yield str(t_1(environment.getattr(l_1_job, 'annotations'), 2, 11))
            yield '\n'
        yield 'spec:\n  backoffLimit:'
        yield str(t_1(environment.getattr(l_1_job, 'backoff_limit'), 2, 12))
        yield '\n'
        if (not t_2(environment.getattr(l_1_job, 'ttl_seconds_after_finished'))):
            pass
            yield '  ttlSecondsAfterFinished:'
            yield str(t_1(environment.getattr(l_1_job, 'ttl_seconds_after_finished'), 2, 23))
            yield '\n'
        if (not t_2(environment.getattr(l_1_job, 'active_deadline_seconds'))):
            pass
            yield '  activeDeadlineSeconds:'
            yield str(t_1(environment.getattr(l_1_job, 'active_deadline_seconds'), 2, 21))
            yield '\n'
        yield '  template:\n    metadata:\n      labels:'
        yield str(t_1(environment.getattr(l_1_job, 'labels'), 6, 6))
        yield '\n'
        if environment.getattr(l_1_job, 'pod_annotations'):
            pass
            yield '      annotations:'
            yield str(t_1(environment.getattr(l_1_job, 'pod_annotations'), 6, 11))
            yield '\n'
        yield '    spec:\n      restartPolicy: Never\n'
        if environment.getattr(l_1_job, 'service_account_name'):
            pass
            yield '      serviceAccountName:'
            yield str(t_1(environment.getattr(l_1_job, 'service_account_name'), 6, 18))
            yield '\n'
        if (environment.getattr(l_1_job, 'git_clone') or environment.getattr(l_1_job, 'context_fetch')):
            pass
            yield '      initContainers:\n'
            if environment.getattr(l_1_job, 'git_clone'):
                pass
                yield '      - name: git-clone\n        image:'
                yield str(t_1(environment.getattr(environment.getattr(l_1_job, 'git_clone'), 'image'), 8, 5))
                yield '\n        command:\n        - /bin/sh\n        - -c\n        args:\n        - |\n          set -eu\n          git -C "$WORKSPACE" init -q\n          git -C "$WORKSPACE" remote add origin "$GIT_URL"\n          if [ -n "${GIT_PASSWORD:-}${GIT_TOKEN:-}" ]; then\n            git -C "$WORKSPACE" config credential.helper \\\n              \'!f() { echo "username=${GIT_USERNAME:-oauth2}"; echo "password=${GIT_PASSWORD:-$GIT_TOKEN}"; }; f\'\n          fi\n          git -C "$WORKSPACE" fetch -q --depth 1 origin "${GIT_REVISION:-HEAD}"\n          git -C "$WORKSPACE" checkout -q FETCH_HEAD\n        env:\n        - name: WORKSPACE\n          value:'
                yield str(t_1(environment.getattr(l_1_job, 'workspace'), 10, 5))
                yield '\n        - name: GIT_URL\n          value:'
                yield str(t_1(environment.getattr(environment.getattr(l_1_job, 'git_clone'), 'url'), 10, 5))
                yield '\n'
                if environment.getattr(environment.getattr(l_1_job, 'git_clone'), 'revision'):
                    pass
                    yield '        - name: GIT_REVISION\n          value:'
                    yield str(t_1(environment.getattr(environment.getattr(l_1_job, 'git_clone'), 'revision'), 10, 5))
                    yield '\n'
                for l_2_entry in environment.getattr(environment.getattr(l_1_job, 'git_clone'), 'env'):
                    _loop_vars = {}
                    pass
                    yield '        -'
                    yield str(t_1(l_2_entry, 8))
                    yield '\n'
                l_2_entry = missing
                yield '        volumeMounts:\n        - name:'
                yield str(t_1(environment.getattr(environment.getattr(l_1_job, 'git_clone'), 'volume'), 10, 4))
                yield '\n          mountPath:'
                yield str(t_1(environment.getattr(l_1_job, 'workspace'), 10, 9))
                yield '\n'
                for l_2_mount in environment.getattr(environment.getattr(l_1_job, 'git_clone'), 'mounts'):
                    _loop_vars = {}
                    pass
                    yield '        -'
                    yield str(t_1(l_2_mount, 8))
                    yield '\n'
                l_2_mount = missing
            if environment.getattr(l_1_job, 'context_fetch'):
                pass
                yield '      - name: fetch-context\n        image:'
                yield str(t_1(environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'image'), 8, 5))
                yield '\n        command:\n        - /bin/sh\n        - -c\n        args:\n        - |\n          set -eu\n          case "$CONTEXT_KIND" in\n            s3)\n              export RCLONE_CONFIG_SRC_TYPE=s3 RCLONE_CONFIG_SRC_PROVIDER=AWS RCLONE_CONFIG_SRC_ENV_AUTH=true\n              if [ -n "${AWS_REGION:-}" ]; then export RCLONE_CONFIG_SRC_REGION="$AWS_REGION"; fi\n              if [ -n "${S3_ENDPOINT:-}" ]; then\n                export RCLONE_CONFIG_SRC_PROVIDER=Other RCLONE_CONFIG_SRC_ENDPOINT="$S3_ENDPOINT"\n              fi ;;\n            gcs)\n              export RCLONE_CONFIG_SRC_TYPE="google cloud storage" RCLONE_CONFIG_SRC_ENV_AUTH=true ;;\n            wasb)\n              export RCLONE_CONFIG_SRC_TYPE=azureblob RCLONE_CONFIG_SRC_ACCOUNT="$AZURE_STORAGE_ACCOUNT"\n              if [ -n "${AZURE_STORAGE_ACCESS_KEY:-}" ]; then\n                export RCLONE_CONFIG_SRC_KEY="$AZURE_STORAGE_ACCESS_KEY"\n              else\n                export RCLONE_CONFIG_SRC_ENV_AUTH=true\n              fi ;;\n          esac\n          rclone copyto "src:$CONTEXT_OBJECT" "$WORKSPACE/.context.tar.gz"\n          tar -xzf "$WORKSPACE/.context.tar.gz" -C "$WORKSPACE"\n          rm "$WORKSPACE/.context.tar.gz"\n        env:\n        - name: WORKSPACE\n          value:'
                yield str(t_1(environment.getattr(l_1_job, 'workspace'), 10, 5))
                yield '\n        - name: CONTEXT_KIND\n          value:'
                yield str(t_1(environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'kind'), 10, 5))
                yield '\n        - name: CONTEXT_OBJECT\n          value:'
                yield str(t_1(environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'source'), 10, 5))
                yield '\n'
                if environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'account'):
                    pass
                    yield '        - name: AZURE_STORAGE_ACCOUNT\n          value:'
                    yield str(t_1(environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'account'), 10, 5))
                    yield '\n'
                for l_2_entry in environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'env'):
                    _loop_vars = {}
                    pass
                    yield '        -'
                    yield str(t_1(l_2_entry, 8))
                    yield '\n'
                l_2_entry = missing
                if environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'env_from'):
                    pass
                    yield '        envFrom:'
                    yield str(t_1(environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'env_from'), 8, 7))
                    yield '\n'
                yield '        volumeMounts:\n        - name:'
                yield str(t_1(environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'volume'), 10, 4))
                yield '\n          mountPath:'
                yield str(t_1(environment.getattr(l_1_job, 'workspace'), 10, 9))
                yield '\n'
                for l_2_mount in environment.getattr(environment.getattr(l_1_job, 'context_fetch'), 'mounts'):
                    _loop_vars = {}
                    pass
                    yield '        -'
                    yield str(t_1(l_2_mount, 8))
                    yield '\n'
                l_2_mount = missing
        yield '      containers:\n'
        yield '      - name: buildah\n        image:'
        yield str(t_1(environment.getattr(l_1_job, 'image'), 8, 5))
        yield '\n        command:\n        - /bin/sh\n        - -c\n        - |\n          set -eu\n          buildah --storage-driver=vfs bud --isolation=chroot --tls-verify="$TLS_VERIFY" \\\n            ${CERT_DIR:+"--cert-dir=$CERT_DIR"} "$@"\n          for arg in "$@"; do\n            case "$arg" in\n              --tag=*) buildah --storage-driver=vfs push --tls-verify="$TLS_VERIFY" \\\n                ${CERT_DIR:+"--cert-dir=$CERT_DIR"} --digestfile=/dev/termination-log "${arg#--tag=}" ;;\n            esac\n          done\n        - buildah\n        args:\n        -'
        yield str(t_1(str_join(('--file=', environment.getattr(l_1_job, 'dockerfile_file'), )), 8))
        yield '\n'
        for l_2_destination in environment.getattr(l_1_job, 'destinations'):
            _loop_vars = {}
            pass
            yield '        -'
            yield str(t_1(str_join(('--tag=', l_2_destination, )), 8))
            yield '\n'
        l_2_destination = missing
        for (l_2_name, l_2_value) in environment.getattr(l_1_job, 'build_args'):
            _loop_vars = {}
            pass
            yield '        -'
            yield str(t_1(str_join(('--build-arg=', l_2_name, '=', l_2_value, )), 8))
            yield '\n'
        l_2_name = l_2_value = missing
        if environment.getattr(l_1_job, 'cache'):
            pass
            yield '        - --layers=true\n        -'
            yield str(t_1(str_join(('--cache-from=', environment.getattr(l_1_job, 'cache_repository'), )), 8))
            yield '\n        -'
            yield str(t_1(str_join(('--cache-to=', environment.getattr(l_1_job, 'cache_repository'), )), 8))
            yield '\n'
        yield '        -'
        yield str(t_1(environment.getattr(l_1_job, 'context_dir'), 8))
        yield '\n        env:\n'
        for l_2_entry in environment.getattr(l_1_job, 'env'):
            _loop_vars = {}
            pass
            yield '        -'
            yield str(t_1(l_2_entry, 8))
            yield '\n'
        l_2_entry = missing
        yield '        - name: TLS_VERIFY\n          value:'
        yield str(t_1(('false' if environment.getattr(l_1_job, 'insecure_registries') else 'true'), 10, 5))
        yield '\n'
        if environment.getattr(l_1_job, 'registry_ca'):
            pass
            yield '        - name: CERT_DIR\n          value:'
            yield str(t_1(environment.getattr(environment.getattr(l_1_job, 'registry_ca'), 'directory'), 10, 5))
            yield '\n'
        if environment.getattr(l_1_job, 'env_from'):
            pass
            yield '        envFrom:'
            yield str(t_1(environment.getattr(l_1_job, 'env_from'), 8, 7))
            yield '\n'
        if environment.getattr(l_1_job, 'security_context'):
            pass
            yield '        securityContext:'
            yield str(t_1(environment.getattr(l_1_job, 'security_context'), 8, 15))
            yield '\n'
        yield '        volumeMounts:'
        yield str(t_1(environment.getattr(l_1_job, 'volume_mounts'), 8, 12))
        yield '\n'
        if environment.getattr(l_1_job, 'resources'):
            pass
            yield '        resources:'
            yield str(t_1(environment.getattr(l_1_job, 'resources'), 8, 9))
            yield '\n'
        if environment.getattr(l_1_job, 'volumes'):
            pass
            yield '      volumes:'
            yield str(t_1(environment.getattr(l_1_job, 'volumes'), 6, 7))
            yield '\n'
    l_1_job = missing

blocks = {}
debug_info = '1=24&5=29&6=31&7=34&9=37&10=39&11=42&14=45&15=47&16=50&18=52&19=55&23=58&24=60&25=63&29=66&30=69&32=71&34=74&5=77&22=79&24=81&25=83&27=86&29=88&30=92&33=96&34=98&35=100&36=104&37=107&5=110&34=112&36=114&38=116&39=118&41=121&43=123&44=127&46=130&47=133&50=136&51=138&52=140&53=144&7=149&23=151&24=153&25=157&27=160&28=164&30=167&32=170&33=172&35=175&37=177&38=181&41=185&42=187&44=190&46=192&47=195&49=197&50=200&52=203&53=205&54=208&43=210&44=213'
# generated by scripts/compile-templates from buildah.yaml.j2 loop: do not edit
# key: ac28004c54e77429954a52108ec6a3271f1ef28c65b03799d92074de6d9b03ab
