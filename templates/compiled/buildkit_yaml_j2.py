from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'buildkit.yaml.j2'

def root(context, missing=missing, environment=environment):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    parent_template = None
    pass
    parent_template = environment.get_template('_job.yaml.j2', 'buildkit.yaml.j2')
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
    l_0_names = missing
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
    pass
    yield '      - name: buildkit\n        image:'
    yield str(t_3(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'image'), 8, 5))
    yield '\n        command:\n'
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'registry_ca'):
        pass
        yield '        - /bin/sh\n        - -c\n        - |\n          set -eu\n          mkdir -p "$HOME/.config/buildkit"\n          printf \'[registry."%s"]\\n  ca = ["%s"]\\n  http = false\\n\' "$REGISTRY_HOST" "$REGISTRY_CA_FILE" \\\n            > "$HOME/.config/buildkit/buildkitd.toml"\n          exec buildctl-daemonless.sh "$@"\n        - buildctl-daemonless.sh\n'
    else:
        pass
        yield '        - buildctl-daemonless.sh\n'
    yield '        args:\n        - build\n        - --frontend=dockerfile.v0\n        -'
    yield str(t_3(str_join(('--local=context=', environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'context_dir'), )), 8))
    yield '\n        -'
    yield str(t_3(str_join(('--local=dockerfile=', environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'dockerfile_dir'), )), 8))
    yield '\n        -'
    yield str(t_3(str_join(('--opt=filename=', environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'dockerfile_name'), )), 8))
    yield '\n'
    for (l_1_name, l_1_value) in environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'build_args'):
        _loop_vars = {}
        pass
        yield '        -'
        yield str(t_3(str_join(('--opt=build-arg:', l_1_name, '=', l_1_value, )), 8))
        yield '\n'
    l_1_name = l_1_value = missing
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'cache'):
        pass
        yield '        -'
        yield str(t_3(str_join(('--export-cache=type=registry,ref=', environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'cache_repository'), ',mode=max', )), 8))
        yield '\n        -'
        yield str(t_3(str_join(('--import-cache=type=registry,ref=', environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'cache_repository'), )), 8))
        yield '\n'
    l_0_names = t_1(context.eval_ctx, environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'destinations'), ',')
    _block_vars['names'] = l_0_names
    yield '        -'
    yield str(t_3(str_join(('--output=type=image,', (str_join(('"name=', (undefined(name='names') if l_0_names is missing else l_0_names), '"', )) if (t_2(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'destinations')) > 1) else str_join(('name=', (undefined(name='names') if l_0_names is missing else l_0_names), ))), ',push=true', (',registry.insecure=true' if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'insecure_registries') else ''), )), 8))
    yield '\n        env:\n'
    for l_1_entry in environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'env'):
        _loop_vars = {}
        pass
        yield '        -'
        yield str(t_3(l_1_entry, 8))
        yield '\n'
    l_1_entry = missing
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'registry_ca'):
        pass
        yield '        - name: REGISTRY_HOST\n          value:'
        yield str(t_3(environment.getattr(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'registry_ca'), 'host'), 10, 5))
        yield '\n        - name: REGISTRY_CA_FILE\n          value:'
        yield str(t_3(environment.getattr(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'registry_ca'), 'file'), 10, 5))
        yield '\n'
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'env_from'):
        pass
        yield '        envFrom:'
        yield str(t_3(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'env_from'), 8, 7))
        yield '\n'
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'security_context'):
        pass
        yield '        securityContext:'
        yield str(t_3(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'security_context'), 8, 15))
        yield '\n'
    yield '        volumeMounts:'
    yield str(t_3(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'volume_mounts'), 8, 12))
    yield '\n'
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'resources'):
        pass
        yield '        resources:'
        yield str(t_3(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'resources'), 8, 9))
        yield '\n'

blocks = {'containers': block_containers}
debug_info = '5=12&6=17&8=46&10=48&26=55&27=57&28=59&29=61&30=65&32=68&33=71&34=73&36=75&37=78&39=80&40=84&42=87&44=90&46=92&48=94&49=97&51=99&52=102&54=105&55=107&56=110'
# generated by scripts/compile-templates from buildkit.yaml.j2: do not edit
# key: e9f07263b377ccfacd6783f3699abbdae9760979c751a08b67a9b477229bc853
