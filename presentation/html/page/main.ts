/**
 * report.html's script (bundled by page-assets.ts into one classic script): reads the page's
 * inlined data, draws the charts as they come into view, and wires the run table and the network
 * tabs. Everything it shows is in the page already; nothing is fetched.
 */
import { PAGE_DATA_ID, type PageData } from "../page-data.ts";
import { ChartRenderer } from "./charts.ts";
import { setUpNetworkTabs } from "./networks.ts";
import { setUpRunTable } from "./run-table.ts";

const source = document.getElementById(PAGE_DATA_ID);
if (!source?.textContent) throw new Error(`report.html has no #${PAGE_DATA_ID} data`);
const data = JSON.parse(source.textContent) as PageData;
const charts = new ChartRenderer(data);
setUpRunTable(data, charts);
setUpNetworkTabs();
charts.observe(document);
document.documentElement.dataset.ready = "true";
