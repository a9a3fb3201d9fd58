// Uploaded debug files: the sentry-cli command, the list, deletion.
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

export function DebugFiles({ org, project, admin }: { org: string; project: string; admin: boolean }) {
  const app = useApp();
  const path = `projects/${enc(org)}/${enc(project)}/files/dsyms/`;
  const files = useLoad<DebugFile[]>(`difs:${org}:${project}`, () => app.api.get(path), () => app.api.cached(path));
  const upload = `SENTRY_URL=<the API's URL root> SENTRY_AUTH_TOKEN=<a token with project:releases> \\\n  sentry-cli debug-files upload --org ${org} --project ${project} path/to/build`;
  return (
    <>
      <section class="panel">
        <h2>Upload with sentry-cli</h2>
        <div class="snippet">
          <pre><code>{upload}</code></pre>
          <CopyButton text={upload} />
        </div>
        <p class="muted small">ELF/DWARF, Mach-O/dSYM, PE/PDB, Breakpad and source bundles; files are found again by debug id. Source maps arrive with JavaScript symbolication.</p>
      </section>
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
                  {admin && (
                    <button
                      type="button"
                      class="danger small"
                      onClick={async () => {
                        if (confirm(`Delete ${f.objectName} (${f.debugId})?`) && (await attempt(app, () => app.api.del(path, { id: f.id }), 'Debug file deleted'))) files.reload();
                      }}
                    >
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
