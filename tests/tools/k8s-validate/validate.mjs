// validate.mjs: checks Kubernetes manifests (JSON, one object or a v1 List
// per file) against the published schemas in kubernetes-models, offline.
// usage: node validate.mjs FILE...   exits 1 naming the file and the error
import { readFileSync } from "node:fs";

async function modelFor(obj) {
	const api = obj.apiVersion, kind = obj.kind;
	if (typeof api !== "string" || typeof kind !== "string")
		throw new Error("no apiVersion or kind");
	let mod;
	try {
		mod = await import(`kubernetes-models/${api}`);
	} catch {
		throw new Error(`unknown apiVersion '${api}'`);
	}
	if (typeof mod[kind] !== "function")
		throw new Error(`unknown kind '${kind}' in '${api}'`);
	return mod[kind];
}

async function check(obj, where) {
	if (obj && obj.apiVersion === "v1" && obj.kind === "List") {
		if (!Array.isArray(obj.items) || obj.items.length === 0)
			throw new Error(`${where}: a List with no items`);
		for (let i = 0; i < obj.items.length; i++)
			await check(obj.items[i], `${where} items[${i}]`);
		return obj.items.length;
	}
	let Model;
	try {
		Model = await modelFor(obj);
	} catch (e) {
		throw new Error(`${where}: ${e.message}`);
	}
	try {
		new Model(obj).validate();
	} catch (e) {
		throw new Error(`${where} (${obj.kind} '${obj.metadata?.name}'): ${e.message}`);
	}
	return 1;
}

const files = process.argv.slice(2);
if (files.length === 0) {
	console.error("usage: node validate.mjs FILE...");
	process.exit(2);
}
let bad = 0;
for (const f of files) {
	try {
		const n = await check(JSON.parse(readFileSync(f, "utf8")), f);
		console.log(`ok ${f} (${n} object${n === 1 ? "" : "s"})`);
	} catch (e) {
		console.error(`invalid: ${e.message}`);
		bad++;
	}
}
process.exit(bad ? 1 : 0);
