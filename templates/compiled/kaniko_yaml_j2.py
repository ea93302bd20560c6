from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'kaniko.yaml.j2'

def root(context, missing=missing, environment=environment):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    parent_template = None
    pass
    parent_template = environment.get_template('_job.yaml.j2', 'kaniko.yaml.j2')
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
    yield '      - name: kaniko\n        image:'
    yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'image'), 8, 5))
    yield '\n        args:\n        -'
    yield str(t_1(str_join(('--dockerfile=', environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'dockerfile'), )), 8))
    yield '\n        -'
    yield str(t_1(str_join(('--context=', environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'context'), )), 8))
    yield '\n'
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'context_sub_path'):
        pass
        yield '        -'
        yield str(t_1(str_join(('--context-sub-path=', environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'context_sub_path'), )), 8))
        yield '\n'
    for l_1_destination in environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'destinations'):
        _loop_vars = {}
        pass
        yield '        -'
        yield str(t_1(str_join(('--destination=', l_1_destination, )), 8))
        yield '\n'
    l_1_destination = missing
    for l_1_host in environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'insecure_registries'):
        _loop_vars = {}
        pass
        yield '        -'
        yield str(t_1(str_join(('--insecure-registry=', l_1_host, )), 8))
        yield '\n        -'
        yield str(t_1(str_join(('--skip-tls-verify-registry=', l_1_host, )), 8))
        yield '\n'
    l_1_host = missing
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'registry_ca'):
        pass
        yield '        -'
        yield str(t_1(str_join(('--registry-certificate=', environment.getattr(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'registry_ca'), 'host'), '=', environment.getattr(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'registry_ca'), 'file'), )), 8))
        yield '\n'
    for (l_1_name, l_1_value) in environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'build_args'):
        _loop_vars = {}
        pass
        yield '        -'
        yield str(t_1(str_join(('--build-arg=', l_1_name, '=', l_1_value, )), 8))
        yield '\n'
    l_1_name = l_1_value = missing
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'cache'):
        pass
        yield '        - --cache=true\n'
    yield '        - --digest-file=/dev/termination-log\n'
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'env'):
        pass
        yield '        env:'
        yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'env'), 8, 3))
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
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'volume_mounts'):
        pass
        yield '        volumeMounts:'
        yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'volume_mounts'), 8, 12))
        yield '\n'
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'resources'):
        pass
        yield '        resources:'
        yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'resources'), 8, 9))
        yield '\n'

blocks = {'containers': block_containers}
debug_info = '2=12&3=17&5=33&7=35&8=37&9=39&10=42&12=44&13=48&15=51&16=55&17=57&19=60&20=63&22=65&23=69&25=72&29=76&30=79&32=81&33=84&35=86&36=89&38=91&39=94&41=96&42=99'
# generated by scripts/compile-templates from kaniko.yaml.j2: do not edit
# key: ac24e66493cc7d0ea439a0dea25dc6d446cb315b9ea9d4ae97542f0f059ed41c
