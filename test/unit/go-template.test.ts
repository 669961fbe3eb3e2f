// Go's text/template as Docker's --format runs it: the examples of Docker's
// "Format command and log output" page and Go's own template documentation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoTemplate } from '../../src/cli/go-template.js';
import { renderObject, renderTemplate } from '../../src/cli/format.js';
import { BerthError } from '../../src/util/errors.js';

const container = {
  Name: '/web',
  Args: ['-c', 'sleep 100'],
  Image: 'busybox:latest',
  State: { Status: 'running', Running: true, Pid: 42, ExitCode: 0, Health: null },
  Config: { Labels: { 'com.example.tier': 'front', version: '1.0' }, Env: ['A=1', 'B=2'], Cmd: ['sh'] },
  Mounts: [{ Type: 'volume', Source: '/v', Destination: '/data' }],
  NetworkSettings: {
    Networks: { bridge: { IPAddress: '172.17.0.2' }, backend: { IPAddress: '10.0.0.5' } },
    Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] },
  },
  HostConfig: { Memory: 1073741824, NanoCpus: 1500000000 },
};
const run = (template: string, data: unknown = container) => parseGoTemplate(template, { missingField: 'zero' }).execute(data);

test("Docker's template functions, as its documentation shows them", () => {
  assert.equal(run('{{join .Args " , "}}'), '-c , sleep 100');
  assert.equal(run('{{json .Mounts}}'), '[{"Type":"volume","Source":"/v","Destination":"/data"}]');
  assert.equal(run('{{lower "HeLLo"}} {{upper .Name}}'), 'hello /WEB');
  assert.equal(run('{{split .Image ":"}}'), '[busybox latest]');
  assert.equal(run('{{title "hello big world"}}'), 'Hello Big World');
  assert.equal(run('{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}'), '10.0.0.5 172.17.0.2 ');
  assert.equal(run('{{range $name, $net := .NetworkSettings.Networks}}{{println $name $net.IPAddress}}{{end}}'), 'backend 10.0.0.5\nbridge 172.17.0.2\n');
  assert.equal(run('{{range $p, $conf := .NetworkSettings.Ports}}{{$p}} -> {{(index $conf 0).HostPort}}{{end}}'), '80/tcp -> 8080');
  assert.equal(run('{{pad .Name 2 3}}|{{pad "" 2 3}}|'), '  /web   ||');
  assert.equal(run('{{truncate .Image 4}}|{{truncate "ab" 4}}'), 'busy|ab');
  assert.equal(run('{{index .Config.Labels "com.example.tier"}}'), 'front');
});

test('control structures: if/else if/else, with, range/else, variables, break and continue, trim markers', () => {
  assert.equal(run('{{if eq .State.Status "running"}}up{{else if eq .State.Status "exited"}}down{{else}}?{{end}}'), 'up');
  assert.equal(run('{{if eq .State.Status "paused" "exited"}}A{{else if .State.Running}}B{{end}}'), 'B');
  assert.equal(run('{{with .State}}{{.Pid}}{{else}}none{{end}} {{with .State.Health}}h{{else}}no health{{end}}'), '42 no health');
  assert.equal(run('{{range .Config.Cmd}}[{{.}}]{{else}}empty{{end}} {{range .Mounts}}{{.Destination}}{{end}} {{range .State.Health}}x{{else}}none{{end}}'), '[sh] /data none');
  assert.equal(run('{{$n := len .Args}}{{$n}} {{$n = 7}}{{$n}}'), '2 7');
  assert.equal(run('{{range $i, $e := .Config.Env}}{{if eq $i 1}}{{break}}{{end}}{{$i}}:{{$e}}{{end}}'), '0:A=1');
  assert.equal(run('{{range .Config.Env}}{{if eq . "A=1"}}{{continue}}{{end}}{{.}}{{end}}'), 'B=2');
  assert.equal(run('a  {{- .Name -}}  b\n{{- /* a comment */ -}}\nc'), 'a/webbc');
  assert.equal(run('{{define "T"}}<{{.}}>{{end}}{{template "T" .Name}}{{block "B" .Image}}[{{.}}]{{end}}'), '</web>[busybox:latest]');
  assert.equal(run('{{range 3}}{{.}}{{end}}'), '012');
});

test("Go's builtins: comparisons, logic, printf, len, slice and Go's printing", () => {
  assert.equal(run('{{and 1 0 2}} {{or 0 "" "x"}} {{not .State.Running}} {{and .State.Running .Name}}'), '0 x false /web');
  assert.equal(run('{{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}} {{ne .Name "/web"}}'), 'true true true false false');
  assert.equal(run('{{printf "%s has %d args, %5.2f%%" .Name (len .Args) 3.14159}}'), '/web has 2 args,  3.14%');
  assert.equal(run('{{printf "%q|%-6s|%06d|%x" "a\\"b" "ab" 42 255}}'), '"a\\"b"|ab    |000042|ff');
  assert.equal(run('{{slice .Image 0 4}} {{slice .Args 1}} {{len .Config.Labels}} {{len "héllo"}}'), 'busy [sleep 100] 2 6');
  assert.equal(run('{{print 1 2 "a" "b" 3}}'), '1 2ab3');
  assert.equal(run('{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{0.5}} {{.State.Health}} {{.Nope}}'), '1073741824 1500000000 0.5 <nil> <no value>');
  assert.equal(run('{{.Config.Labels}} {{.Args}}'), 'map[com.example.tier:front version:1.0] [-c sleep 100]');
  assert.equal(run('{{"quoted \\t tab" | printf "%s!"}} {{`raw \\n`}}'), 'quoted \t tab! raw \\n');
  assert.equal(run('{{.Name | printf "%s-%s" "x"}}'), 'x-/web');
});

test('errors are the client\'s (exit 1), in Go\'s words, and never a stack trace', () => {
  const fails = (template: string, pattern: RegExp, options: Parameters<typeof parseGoTemplate>[1] = { missingField: 'error' }) => {
    assert.throws(() => parseGoTemplate(template, options).execute({ ID: 'abc', Labels: '' }), (err: unknown) => {
      assert.ok(err instanceof BerthError, String(err));
      assert.equal(err.exitStatus, 1);
      assert.match(err.message, pattern);
      return true;
    });
  };
  fails('{{.Nmae}}', /can't evaluate field Nmae/);
  fails('{{nosuch .ID}}', /function "nosuch" not defined/);
  fails('{{if .ID}}x', /without \{\{end\}\}/);
  fails('{{.ID', /unclosed action/);
  fails('{{end}}', /unexpected \{\{end\}\}/);
  fails('{{"abc}}', /unterminated quoted string/);
  fails('{{.ID 1}}', /cannot be invoked as function|has arguments/);
  fails('{{$x}}', /undefined variable: \$x/);
  fails('{{lt 1 "a"}}', /incompatible types for comparison/);
  fails('{{index .ID 9}}', /index out of range/);
  fails('{{break}}', /outside \{\{range\}\}/);
  fails('{{.Nope.Deeper}}', /nil pointer evaluating interface \{\}\.Deeper/, { missingField: 'zero' });
});

test('list rows: {{.Label "k"}}, table headers in Docker\'s column names and tabwriter widths, \\t typed as text', () => {
  const rows = [{ ID: 'a1', Names: 'web', Labels: 'tier=front,version=1.0' }, { ID: 'b2', Names: 'database-primary', Labels: '' }];
  const headers = { ID: 'CONTAINER ID', Names: 'NAMES', Labels: 'LABELS' };
  assert.equal(renderTemplate('{{.Names}}: {{.Label "tier"}}', rows, headers), 'web: front\ndatabase-primary: \n');
  assert.equal(renderTemplate('table {{.ID}}\\t{{.Names}}\\t{{.Label "version"}}', rows, headers),
    'CONTAINER ID   NAMES              LABEL\n' +
    'a1             web                1.0\n' +
    'b2             database-primary\n');
  // Docker's tabwriter makes every padded column at least 10 wide.
  assert.equal(renderTemplate('table {{.ID}}\\t{{.Names}}', [{ ID: 'a', Names: 'b' }], { ID: 'ID', Names: 'NAMES' }), 'ID        NAMES\na         b\n');
  assert.equal(renderTemplate('{{json .}}', [{ ID: 'a1' }], headers), '{"ID":"a1"}\n');
  assert.equal(renderTemplate('{{if .Labels}}{{.Labels}}{{else}}-{{end}}', rows, headers), 'tier=front,version=1.0\n-\n');
  assert.throws(() => renderTemplate('{{.Size}}', rows, headers), /can't evaluate field Size/);
  assert.equal(renderObject('{{.Name}}\\t{{.Image}}', container), '/web\tbusybox:latest\n');
});
