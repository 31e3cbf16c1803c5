// `npm run manifest:check [-- path/to/manifest.yml]`: checks the Slack app manifest against what
// the code registers (src/slack/registry.ts, the one list the Bolt listeners are wired from): the
// slash command with its description and a usage hint naming every verb, each Events API event,
// interactivity (the buttons and the deny modal need it), App Home, the bot scopes, Socket Mode on,
// and request URLs ending in /slack/events. Exits 1 naming each mismatch and how to fix it.
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
const manifestPath = process.argv[2] ?? `${root}manifest.yml`;

async function loadRegistry() {
  const out = await build({
    entryPoints: [`${root}src/slack/registry.ts`],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    logLevel: 'silent',
  });
  const code = out.outputFiles[0].text;
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
}

export function checkManifest(manifest, registry) {
  const problems = [];
  const commands = manifest?.features?.slash_commands ?? [];
  const command = commands.find((c) => c.command === registry.SLASH_COMMAND);
  if (!command) {
    problems.push(
      `features.slash_commands has no ${registry.SLASH_COMMAND}: add it (the code registers it)`,
    );
  } else {
    if (!command.description) problems.push(`${registry.SLASH_COMMAND} needs a description`);
    const hint = command.usage_hint ?? '';
    if (hint !== registry.SLASH_USAGE_HINT)
      problems.push(
        `${registry.SLASH_COMMAND} usage_hint differs from SLASH_USAGE_HINT in src/slack/registry.ts: copy it over`,
      );
    for (const verb of [
      'help',
      ...registry.SLACK_VERBS.filter((v) => v !== 'approve' && v !== 'deny'),
    ]) {
      if (!new RegExp(`(^|[|\\s])${verb}\\b`).test(hint))
        problems.push(`${registry.SLASH_COMMAND} usage_hint does not mention "${verb}"`);
    }
    if (command.url && !command.url.endsWith(registry.EVENTS_PATH))
      problems.push(`${registry.SLASH_COMMAND} url must end in ${registry.EVENTS_PATH}`);
  }
  for (const extra of commands.filter((c) => c.command !== registry.SLASH_COMMAND))
    problems.push(
      `features.slash_commands has ${extra.command}, which the code does not handle: remove it`,
    );

  const events = manifest?.settings?.event_subscriptions?.bot_events ?? [];
  for (const event of registry.EVENTS)
    if (!events.includes(event))
      problems.push(`settings.event_subscriptions.bot_events lacks ${event}`);
  for (const event of events)
    if (!registry.EVENTS.includes(event))
      problems.push(`bot event ${event} is not handled by the code: remove it`);
  const eventsUrl = manifest?.settings?.event_subscriptions?.request_url;
  if (eventsUrl && !eventsUrl.endsWith(registry.EVENTS_PATH))
    problems.push(`settings.event_subscriptions.request_url must end in ${registry.EVENTS_PATH}`);

  const actionCount = Object.keys(registry.ACTIONS).length + Object.keys(registry.VIEWS).length;
  const interactivity = manifest?.settings?.interactivity;
  if (actionCount > 0 && interactivity?.is_enabled !== true)
    problems.push(
      `settings.interactivity.is_enabled must be true: the code registers ${Object.values(registry.ACTIONS).join(', ')} and ${Object.values(registry.VIEWS).join(', ')}`,
    );
  if (interactivity?.request_url && !interactivity.request_url.endsWith(registry.EVENTS_PATH))
    problems.push(`settings.interactivity.request_url must end in ${registry.EVENTS_PATH}`);

  if (
    registry.EVENTS.includes('app_home_opened') &&
    manifest?.features?.app_home?.home_tab_enabled !== true
  )
    problems.push('features.app_home.home_tab_enabled must be true: the code publishes App Home');
  if (!manifest?.features?.bot_user?.display_name)
    problems.push('features.bot_user.display_name is missing');
  if (!manifest?.display_information?.name) problems.push('display_information.name is missing');

  const scopes = manifest?.oauth_config?.scopes?.bot ?? [];
  for (const scope of registry.BOT_SCOPES)
    if (!scopes.includes(scope)) problems.push(`oauth_config.scopes.bot lacks ${scope}`);
  for (const scope of scopes)
    if (!registry.BOT_SCOPES.includes(scope))
      problems.push(
        `oauth_config.scopes.bot has ${scope}, which the code does not need: remove it (fewest scopes)`,
      );

  if (manifest?.settings?.socket_mode_enabled !== true)
    problems.push(
      'settings.socket_mode_enabled must be true in the shipped manifest (README says how to switch to HTTP)',
    );
  return problems;
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  let manifest;
  try {
    manifest = parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    console.error(`manifest check: cannot read ${manifestPath}: ${error.message}`);
    process.exit(1);
  }
  const problems = checkManifest(manifest, await loadRegistry());
  if (problems.length > 0) {
    console.error(
      `manifest check: ${manifestPath} does not match the code:\n  ${problems.join('\n  ')}`,
    );
    process.exit(1);
  }
  console.log(
    `manifest check: ${manifestPath} matches the code (command, events, interactivity, App Home, scopes).`,
  );
}
