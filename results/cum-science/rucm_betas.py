"Per cum+rucm run: val R@1 per beta for both weightings (the fit), the chosen beta, and test R@1 at fixed betas."
import sys, json, torch
torch.set_num_threads(1)
from cumdr.evaluate import load_model, encode_split, global_similarity, run_stages
from cumdr.datasets import load_annotations_for, load_data
from cumdr.matching import ComplementaryFusion
from cumdr.metrics import retrieval_metrics
out = {}
for rd in sys.argv[1:]:
    model, cfg = load_model(rd)
    data = load_data(cfg)
    ann = load_annotations_for(cfg, data)
    ctx = {s: dict(model=model, enc=encode_split(model, getattr(data, s), cfg), cfg=cfg, split=getattr(data, s), annotations=ann)
           for s in ('val', 'test')}
    res = {}
    for w in ('uncertainty', 'fixed'):
        st = ComplementaryFusion('gallery', w)
        run_stages(dict(g=global_similarity, r=st), ctx['val'], fit=True)
        test = {}
        for b in (.5, 1., 2., 5.):
            st.beta = b
            sc = run_stages(dict(g=global_similarity, r=st), ctx['test'])['r']
            test[b] = retrieval_metrics(sc, ctx['test']['enc'].query_pids, ctx['test']['enc'].gallery_pids)['R1']
        res[w] = dict(val_R1_by_beta={b: round(m['R1'], 2) for b, m in st.fit_results.items()}, test_R1_at_beta=test)
    out[rd] = res
    print(rd, json.dumps(res), flush=True)
json.dump(out, open('/work/exp/rucm_betas.json', 'w'), indent=1)
