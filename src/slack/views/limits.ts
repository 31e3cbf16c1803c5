/**
 * Slack's Block Kit limits (../shared/API-NOTES.md and Slack's reference), and a checker that
 * walks a message or view and lists every breach. The views clip as they build; the tests render
 * every view with long inputs and run this checker over the result.
 */
export const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
  actionsElements: 25,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  viewTitle: 24,
  viewSubmit: 24,
  privateMetadata: 3000,
  messageText: 40_000,
} as const;

type Node = Record<string, unknown>;

/** Every limit the message (or view) breaks; empty when it is within them all. */
export function checkBlocks(blocks: unknown[], kind: 'message' | 'view'): string[] {
  const problems: string[] = [];
  const max = kind === 'message' ? LIMITS.messageBlocks : LIMITS.viewBlocks;
  if (blocks.length > max) problems.push(`${blocks.length} blocks (max ${max})`);
  const actionIds = new Set<string>();
  const blockIds = new Set<string>();
  const text = (node: unknown, limit: number, where: string) => {
    const value = (node as Node | undefined)?.text;
    if (typeof value !== 'string') problems.push(`${where}: text missing`);
    else if (value.length > limit) problems.push(`${where}: ${value.length} chars (max ${limit})`);
    else if (value.length === 0) problems.push(`${where}: empty text`);
  };
  const element = (el: Node, where: string) => {
    if (typeof el.action_id === 'string') {
      if (el.action_id.length > LIMITS.actionId) problems.push(`${where}: action_id too long`);
      if (actionIds.has(el.action_id))
        problems.push(`${where}: duplicate action_id ${el.action_id}`);
      actionIds.add(el.action_id);
    }
    if (el.type === 'button') {
      text(el.text, LIMITS.buttonText, `${where} button text`);
      if (typeof el.value === 'string' && el.value.length > LIMITS.buttonValue)
        problems.push(`${where}: button value ${el.value.length} chars`);
    }
    const confirm = el.confirm as Node | undefined;
    if (confirm) {
      text(confirm.title, LIMITS.confirmTitle, `${where} confirm title`);
      text(confirm.text, LIMITS.confirmText, `${where} confirm text`);
      text(confirm.confirm, LIMITS.confirmButton, `${where} confirm button`);
      text(confirm.deny, LIMITS.confirmButton, `${where} deny button`);
    }
  };
  blocks.forEach((raw, index) => {
    const block = raw as Node;
    const where = `block ${index} (${String(block.type)})`;
    if (typeof block.block_id === 'string') {
      if (block.block_id.length > LIMITS.blockId) problems.push(`${where}: block_id too long`);
      if (blockIds.has(block.block_id)) problems.push(`${where}: duplicate block_id`);
      blockIds.add(block.block_id);
    }
    switch (block.type) {
      case 'section': {
        if (block.text) text(block.text, LIMITS.sectionText, `${where} text`);
        const fields = (block.fields as Node[] | undefined) ?? [];
        if (!block.text && fields.length === 0) problems.push(`${where}: neither text nor fields`);
        if (fields.length > LIMITS.sectionFields)
          problems.push(`${where}: ${fields.length} fields`);
        fields.forEach((field, i) =>
          text({ text: field.text }, LIMITS.fieldText, `${where} field ${i}`),
        );
        if (block.accessory) element(block.accessory as Node, `${where} accessory`);
        break;
      }
      case 'header':
        text(block.text, LIMITS.headerText, `${where} text`);
        break;
      case 'context': {
        const elements = (block.elements as Node[] | undefined) ?? [];
        if (elements.length === 0 || elements.length > LIMITS.contextElements)
          problems.push(`${where}: ${elements.length} elements`);
        elements.forEach((el, i) => text(el, LIMITS.sectionText, `${where} element ${i}`));
        break;
      }
      case 'actions': {
        const elements = (block.elements as Node[] | undefined) ?? [];
        if (elements.length === 0 || elements.length > LIMITS.actionsElements)
          problems.push(`${where}: ${elements.length} elements`);
        elements.forEach((el, i) => element(el, `${where} element ${i}`));
        break;
      }
      case 'input': {
        text(block.label, 2000, `${where} label`);
        const el = block.element as Node | undefined;
        if (!el) problems.push(`${where}: element missing`);
        else element(el, `${where} element`);
        break;
      }
      case 'divider':
        break;
      default:
        problems.push(`${where}: unexpected block type`);
    }
  });
  return problems;
}

/** Checks a whole modal or Home view: its blocks and its own fields. */
export function checkView(view: Record<string, unknown>): string[] {
  const problems = checkBlocks((view.blocks as unknown[]) ?? [], 'view');
  const title = (view.title as Node | undefined)?.text;
  if (view.type === 'modal') {
    if (typeof title !== 'string' || title.length > LIMITS.viewTitle)
      problems.push(`modal title: ${String(title)}`);
    const submit = (view.submit as Node | undefined)?.text;
    if (typeof submit === 'string' && submit.length > LIMITS.viewSubmit)
      problems.push('modal submit text too long');
  }
  const meta = view.private_metadata;
  if (typeof meta === 'string' && meta.length > LIMITS.privateMetadata)
    problems.push('private_metadata too long');
  return problems;
}
