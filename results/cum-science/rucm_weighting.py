"Paired: RUCM's uncertainty-weighted fusion vs fixed weight on the same cum+rucm models; AUROC of u for 'top-1 wrong'."
import sys, json, torch, numpy as np
torch.set_num_threads(1)
from sklearn.metrics import roc_auc_score
from cumdr.evaluate import evaluate_run, load_model, encode_split
from cumdr.datasets import load_data
from cumdr.matching import pair_uncertainty
out = {}
for rd in sys.argv[1:]:
    m = json.load(open(f'{rd}/metrics.json'))
    fixed = evaluate_run(rd, 'test', rucm_weighting='fixed')
    model, cfg = load_model(rd)
    data = load_data(cfg)
    enc = encode_split(model, data.test, cfg)
    s = enc.txt_global.float() @ enc.img_global.float().T
    top = s.argmax(1)
    wrong = (enc.gallery_pids[top] != enc.query_pids).numpy()
    rows = torch.arange(len(top))
    u = torch.stack([pair_uncertainty(enc.txt_global[i:i + 1], enc.txt_logsig[i:i + 1], enc.img_global[top[i]:top[i] + 1],
                                      enc.img_logsig[top[i]:top[i] + 1])[0, 0] for i in range(len(top))]).numpy()
    auc = roc_auc_score(wrong, u) if 0 < wrong.mean() < 1 else None
    ent = enc.txt_logsig.sum(1).numpy()
    top_cos = s.max(1).values.numpy()
    sig_d = torch.stack([(enc.txt_logsig[i].exp() - enc.img_logsig[top[i]].exp()).norm() for i in range(len(top))]).numpy()
    out[rd] = dict(uncertainty_R1=m['test']['rucm']['R1'], fixed_R1=fixed['rucm']['R1'], global_R1=m['test']['global']['R1'],
                   uncertainty_mAP=m['test']['rucm']['mAP'], fixed_mAP=fixed['rucm']['mAP'],
                   auroc_u_top1_wrong=auc, auroc_text_entropy_top1_wrong=roc_auc_score(wrong, ent), auroc_low_cosine_top1_wrong=roc_auc_score(wrong, -top_cos), auroc_inverse_sigma_gap_top1_wrong=roc_auc_score(wrong, -sig_d), top1_wrong=float(wrong.mean()))
    print(rd, out[rd], flush=True)
json.dump(out, open('/work/exp/rucm_weighting.json', 'w'), indent=1)
