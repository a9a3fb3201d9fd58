// Uploaded debug files and source-map bundles: the sentry-cli commands, the lists, deletion.
import type { ComponentChildren } from 'preact';
import { attempt, CopyButton, Empty, ErrorBox, Skeleton, Time, useApp, useLoad } from '../ui.js';
import { enc } from './common.js';


interface DebugFile {
  id: string;
  debugId: string;
  codeId: string | null;
  objectName: string;
  cpuName: string;
  symbolType: string;
  size: number;
  dateCreated: string | null;
  data: { type?: string; features?: string[] };
}

interface ArtifactBundle {
  bundleId: string;
  associations: { release: string; dist: string | null }[];
  fileCount: number;
  debugIds: string[];
  size: number;
  date: string | null;
}

export function DebugFiles(props: { org: string; project: string; admin: boolean }) {
  return (
    <>
      <NativeFiles {...props} />
      <SourceMaps {...props} />
    </>
  );
}

/** A panel with a sentry-cli command to copy and what it does. */
function Upload({ title, command, children }: { title: string; command: string; children: ComponentChildren }) {
  return (
    <section class="panel">
      <h2>{title}</h2>
      <div class="snippet">
        <pre><code>{command}</code></pre>
        <CopyButton text={command} />
      </div>
      <p class="muted small">{children}</p>
    </section>
  );
}

/** Deletes one listed thing after the admin confirms, then reloads the list. */
function DeleteButton({ what, done, remove, reload }: { what: string; done: string; remove: () => Promise<void>; reload: () => void }) {
  const app = useApp();
  return (
    <button
      type="button"
      class="danger small"
      onClick={async () => {
        if (confirm(`Delete ${what}?`) && (await attempt(app, remove, done))) reload();
      }}
    >
      Delete
    </button>
  );
}

function SourceMaps({ org, project, admin }: { org: string; project: string; admin: boolean }) {
  const app = useApp();
  const path = `projects/${enc(org)}/${enc(project)}/files/artifact-bundles/`;
  const bundles = useLoad<ArtifactBundle[]>(`bundles:${org}:${project}`, () => app.api.get(path), () => app.api.cached(path));
  const upload = `sentry-cli sourcemaps inject path/to/dist\nSENTRY_URL=<the API's URL root> SENTRY_AUTH_TOKEN=<a token with project:releases> \\\n  sentry-cli sourcemaps upload --org ${org} --project ${project} path/to/dist`;
  return (
    <>
      <Upload title="Source maps" command={upload}>
        <code>inject</code> gives each script and its map a debug id, which the SDK reports with every error; bundles uploaded with <code>--release</code> are also matched by release and URL.
      </Upload>
      {bundles.error ? (
        <ErrorBox error={bundles.error} retry={bundles.reload} />
      ) : !bundles.data ? (
        <Skeleton rows={2} />
      ) : bundles.data.length === 0 ? (
        <Empty title="No source maps yet">Upload your build's scripts and source maps with the commands above.</Empty>
      ) : (
        <table class="table">
          <thead>
            <tr><th>Bundle</th><th>Release</th><th class="num">Files</th><th class="num">Debug ids</th><th class="num">Size</th><th>Uploaded</th><th /></tr>
          </thead>
          <tbody>
            {bundles.data.map((b) => (
              <tr key={b.bundleId}>
                <td><code title={b.bundleId}>{b.bundleId.slice(0, 12)}</code></td>
                <td>{b.associations.map((a) => (a.dist ? `${a.release} (${a.dist})` : a.release)).join(', ') || '—'}</td>
                <td class="num">{b.fileCount}</td>
                <td class="num" title={b.debugIds.join('\n')}>{b.debugIds.length}</td>
                <td class="num">{(b.size / 1024).toFixed(0)} KiB</td>
                <td><Time iso={b.date} /></td>
                <td>
                  {admin && <DeleteButton what={`bundle ${b.bundleId.slice(0, 12)}`} done="Bundle deleted" remove={() => app.api.del(path, { bundleId: b.bundleId })} reload={bundles.reload} />}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function NativeFiles({ org, project, admin }: { org: string; project: string; admin: boolean }) {
  const app = useApp();
  const path = `projects/${enc(org)}/${enc(project)}/files/dsyms/`;
  const files = useLoad<DebugFile[]>(`difs:${org}:${project}`, () => app.api.get(path), () => app.api.cached(path));
  const upload = `SENTRY_URL=<the API's URL root> SENTRY_AUTH_TOKEN=<a token with project:releases> \\\n  sentry-cli debug-files upload --org ${org} --project ${project} path/to/build`;
  return (
    <>
      <Upload title="Upload with sentry-cli" command={upload}>
        ELF/DWARF, Mach-O/dSYM, PE/PDB, Breakpad and source bundles; files are found again by debug id. Native stack traces and minidumps are symbolicated with them.
      </Upload>
      {files.error ? (
        <ErrorBox error={files.error} retry={files.reload} />
      ) : !files.data ? (
        <Skeleton rows={3} />
      ) : files.data.length === 0 ? (
        <Empty title="No debug files yet">Upload your builds' debug files with the command above.</Empty>
      ) : (
        <table class="table">
          <thead>
            <tr><th>Debug id</th><th>Name</th><th>Kind</th><th>Features</th><th class="num">Size</th><th>Uploaded</th><th /></tr>
          </thead>
          <tbody>
            {files.data.map((f) => (
              <tr key={f.id}>
                <td><code>{f.debugId}</code></td>
                <td>{f.objectName}</td>
                <td>{f.symbolType} · {f.cpuName}{f.data.type ? ` · ${f.data.type}` : ''}</td>
                <td>{(f.data.features ?? []).join(', ')}</td>
                <td class="num">{(f.size / 1024).toFixed(0)} KiB</td>
                <td><Time iso={f.dateCreated} /></td>
                <td>
                  {admin && <DeleteButton what={`${f.objectName} (${f.debugId})`} done="Debug file deleted" remove={() => app.api.del(path, { id: f.id })} reload={files.reload} />}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
