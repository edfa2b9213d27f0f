export { headingAnchors } from './anchors.js';
export { askHelp, COMMAND_HOMES, helpListsOption, type HelpAnswer } from './cli-help.js';
export { shownCommands, type ShownCommand } from './commands.js';
export { brokenLinks, type BrokenLink } from './links.js';
export { fencedLines, headingsOf, htmlAnchorsOf, linksOf, trackedMarkdownFiles, type FencedLine, type MarkdownFile, type MarkdownLink } from './markdown.js';
