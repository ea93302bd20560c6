from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = '_job.yaml.j2'

def root(context, missing=missing, environment=environment):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_job = resolve('job')
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
    yield 'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name:'
    yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'name'), 2, 4))
    yield '\n'
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'namespace'):
        pass
        yield '  namespace:'
        yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'namespace'), 2, 9))
        yield '\n'
    yield '  labels:'
    yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'labels'), 2, 6))
    yield '\n'
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'annotations'):
        pass
        yield '  annotations:'
        yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'annotations'), 2, 11))
        yield '\n'
    yield 'spec:\n  backoffLimit:'
    yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'backoff_limit'), 2, 12))
    yield '\n'
    if (not t_2(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'ttl_seconds_after_finished'))):
        pass
        yield '  ttlSecondsAfterFinished:'
        yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'ttl_seconds_after_finished'), 2, 23))
        yield '\n'
    if (not t_2(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'active_deadline_seconds'))):
        pass
        yield '  activeDeadlineSeconds:'
        yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'active_deadline_seconds'), 2, 21))
        yield '\n'
    yield '  template:\n    metadata:\n      labels:'
    yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'labels'), 6, 6))
    yield '\n'
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'pod_annotations'):
        pass
        yield '      annotations:'
        yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'pod_annotations'), 6, 11))
        yield '\n'
    yield '    spec:\n      restartPolicy: Never\n'
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'service_account_name'):
        pass
        yield '      serviceAccountName:'
        yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'service_account_name'), 6, 18))
        yield '\n'
    if (environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'git_clone') or environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'context_fetch')):
        pass
        yield '      initContainers:\n'
        if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'git_clone'):
            pass
            template = environment.get_template('_git_clone.yaml.j2', '_job.yaml.j2')
            gen = template.root_render_func(template.new_context(context.get_all(), True, {}))
            try:
                for event in gen:
                    yield event
            finally: gen.close()
        if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'context_fetch'):
            pass
            template = environment.get_template('_fetch_context.yaml.j2', '_job.yaml.j2')
            gen = template.root_render_func(template.new_context(context.get_all(), True, {}))
            try:
                for event in gen:
                    yield event
            finally: gen.close()
    yield '      containers:\n'
    yield from context.blocks['containers'][0](context)
    if environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'volumes'):
        pass
        yield '      volumes:'
        yield str(t_1(environment.getattr((undefined(name='job') if l_0_job is missing else l_0_job), 'volumes'), 6, 7))
        yield '\n'

def block_containers(context, missing=missing, environment=environment):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    pass

blocks = {'containers': block_containers}
debug_info = '5=25&6=27&7=30&9=33&10=35&11=38&14=41&15=43&16=46&18=48&19=51&23=54&24=56&25=59&29=62&30=65&32=67&34=70&35=72&37=78&38=80&42=87&43=88&44=91&42=94'
# generated by scripts/compile-templates from _job.yaml.j2: do not edit
# key: 159a60f39681dbc4807431acc71ff565c43d8374986cb71bc58b11d55933262a
