// `npm run build -w @telly/web` (also run by its typecheck, and by `npm start`): builds the
// dashboard into web/dist/app and prints what a first visit downloads.
import { buildDashboard } from './build.ts';

const manifest = await buildDashboard(process.argv[2]);
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const { firstLoad } = manifest;
console.log(
  `dashboard built: first load ${kb(firstLoad.br)} brotli, ${kb(firstLoad.gzip)} gzip, ${kb(firstLoad.bytes)} uncompressed (${firstLoad.files.length} files)`,
);
