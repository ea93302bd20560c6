from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'buildah.yaml.j2'

def root(context, missing=missing, environment=environment):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    parent_template = None
    pass
    parent_template = environment.get_template('_job.yaml.j2', 'buildah.yaml.j2')
    for name, parent_block in parent_template.blocks.items():
        context.blocks.setdefault(name, []).append(parent_block)
    yield from parent_template.root_render_func(context)

def block_containers(context, missing=missing, environment=environment):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_job = resolve('job')
    try:
        t_1 = environment.filters['yaml']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'yaml' found.")
    pass
    yield '      - name: buildah\n        image:'
    yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'image'), 8, 5))
    yield '\n        command:\n        - /bin/sh\n        - -c\n        - |\n          set -eu\n          buildah --storage-driver=vfs bud --isolation=chroot --tls-verify="$TLS_VERIFY" \\\n            ${CERT_DIR:+"--cert-dir=$CERT_DIR"} "$@"\n          for arg in "$@"; do\n            case "$arg" in\n              --tag=*) buildah --storage-driver=vfs push --tls-verify="$TLS_VERIFY" \\\n                ${CERT_DIR:+"--cert-dir=$CERT_DIR"} --digestfile=/dev/termination-log "${arg#--tag=}" ;;\n            esac\n          done\n        - buildah\n        args:\n        -'
    yield str(t_1(str_join(('--file=', environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'dockerfile_file'), )), 8))
    yield '\n'
    for l_1_destination in environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'destinations'):
        _loop_vars = {}
        pass
        yield '        -'
        yield str(t_1(str_join(('--tag=', l_1_destination, )), 8))
        yield '\n'
    l_1_destination = missing
    for (l_1_name, l_1_value) in environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'build_args'):
        _loop_vars = {}
        pass
        yield '        -'
        yield str(t_1(str_join(('--build-arg=', l_1_name, '=', l_1_value, )), 8))
        yield '\n'
    l_1_name = l_1_value = missing
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'cache'):
        pass
        yield '        - --layers=true\n        -'
        yield str(t_1(str_join(('--cache-from=', environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'cache_repository'), )), 8))
        yield '\n        -'
        yield str(t_1(str_join(('--cache-to=', environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'cache_repository'), )), 8))
        yield '\n'
    yield '        -'
    yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'context_dir'), 8))
    yield '\n        env:\n'
    for l_1_entry in environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'env'):
        _loop_vars = {}
        pass
        yield '        -'
        yield str(t_1(l_1_entry, 8))
        yield '\n'
    l_1_entry = missing
    yield '        - name: TLS_VERIFY\n          value:'
    yield str(t_1(('false' if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'insecure_registries') else 'true'), 10, 5))
    yield '\n'
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'registry_ca'):
        pass
        yield '        - name: CERT_DIR\n          value:'
        yield str(t_1(environment.getattr(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'registry_ca'), 'directory'), 10, 5))
        yield '\n'
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'env_from'):
        pass
        yield '        envFrom:'
        yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'env_from'), 8, 7))
        yield '\n'
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'security_context'):
        pass
        yield '        securityContext:'
        yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'security_context'), 8, 15))
        yield '\n'
    yield '        volumeMounts:'
    yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'volume_mounts'), 8, 12))
    yield '\n'
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'resources'):
        pass
        yield '        resources:'
        yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'resources'), 8, 9))
        yield '\n'

blocks = {'containers': block_containers}
debug_info = '4=12&5=17&7=33&23=35&24=37&25=41&27=44&28=48&30=51&32=54&33=56&35=59&37=61&38=65&41=69&42=71&44=74&46=76&47=79&49=81&50=84&52=87&53=89&54=92'
# generated by scripts/compile-templates from buildah.yaml.j2: do not edit
# key: b68c9126da34e73651cefb3053cf55fb23fddc1b04f88a90aba0fbb189c5c0c0
