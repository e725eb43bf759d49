"""Probe (2026-12-03, before amendment v2.5): does max pooling of the adapted encoder's token
states add ranking information for news-comment toxicity beyond the mean-pooled embedding?
Embeds the Civil Comments samples and 8,000 CAD train/dev rows (hash train and validation
buckets only; test rows are skipped) with the committed adapter merged, fits a logistic
regression (rater fractions as soft targets, Civil rows weighted 3) on the train rows for the
mean embedding, mean + max, and max alone, and prints validation ROC AUC beside the committed
stage-1 toxicity head. Result on the AMD EPYC (models/README.md, "Amendment v2.5"): Civil
0.8589 stage-1 head, 0.8558 mean, 0.8524 mean+max, 0.8564 max; CAD 0.7545, 0.7828, 0.7856,
0.7842. Max pooling adds nothing on news comments.

Run: ~/.cache/threadlens/venv/bin/python scripts/probe_pooling.py [CAD_ROWS]
"""
# news-comment toxicity beyond the mean-pooled embedding? Validation rows only.
import csv, re, sys, time, random, numpy as np, torch
from safetensors.torch import load_file
from transformers import AutoTokenizer, BertModel
torch.set_num_threads(2)
import os
ROOT=os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS=os.path.join(ROOT,'models')
D=os.path.join(ROOT,'..','shared','data','toxicity')+'/'
def norm(t): return ' '.join(w.lower() for w in re.split(r'[^0-9A-Za-z\u00C0-\uFFFF]+', t) if w)
def bucket(t):
    h=0xcbf29ce484222325
    for b in norm(t).encode(): h=((h^b)*0x100000001b3)&0xFFFFFFFFFFFFFFFF
    return h%100
rows=[]  # (text, source, target in [0,1])
for f in ['train_sample_4900_attributes.csv','sample_1000_attributes.csv']:
    for r in csv.DictReader(open(D+'civil-comments-samples/'+f)):
        if r['text'].strip() and r['toxicity']!='': rows.append((r['text'],'civil',float(r['toxicity'])))
for f in ['cad_v1_1_train.tsv','cad_v1_1_dev.tsv']:
    for i,l in enumerate(open(D+'cad-reddit/'+f)):
        if i==0: continue
        p=l.rstrip('\n').split('\t')
        if len(p)<3: continue
        t=p[1].replace('[linebreak]','\n').strip(); s=set(x.strip() for x in p[2].split(','))
        if not t or t in('[deleted]','[removed]'): continue
        ab=bool(s&{'PersonDirectedAbuse','IdentityDirectedAbuse','AffiliationDirectedAbuse'})
        if 'Neutral' in s and not ab: y=0.0
        elif ab: y=1.0
        else: continue
        rows.append((t,'cad',y))
random.seed(1); random.shuffle(rows)
civ=[r for r in rows if r[1]=='civil']; cad=[r for r in rows if r[1]=='cad'][:int(sys.argv[1]) if len(sys.argv)>1 else 8000]
rows=civ+cad
split=['train' if bucket(t)<80 else 'val' if bucket(t)<90 else 'test' for t,_,_ in rows]
keep=[i for i,s in enumerate(split) if s!='test']
rows=[rows[i] for i in keep]; split=[split[i] for i in keep]
print(len(rows),'rows', sum(s=='val' for s in split),'val', flush=True)
M=MODELS+'/all-MiniLM-L6-v2'
tok=AutoTokenizer.from_pretrained(M); model=BertModel.from_pretrained(M).eval()
lora=load_file(MODELS+'/heads/encoder-lora.safetensors'); sd=model.state_dict()
with torch.no_grad():
    for k in lora:
        if k.endswith('.lora_a'):
            base=k[:-len('.lora_a')]; sd[base]+= 2.0*(lora[base+'.lora_b']@lora[k])
model.load_state_dict(sd)
order=sorted(range(len(rows)),key=lambda i:len(rows[i][0]))
mean=np.zeros((len(rows),384),np.float32); mx=np.zeros((len(rows),384),np.float32)
t0=time.time()
with torch.no_grad(), torch.autocast('cpu',dtype=torch.bfloat16):
    for b in range(0,len(order),64):
        idx=order[b:b+64]
        enc=tok([rows[i][0] for i in idx],padding=True,truncation=True,max_length=256,return_tensors='pt')
        h=model(**enc).last_hidden_state.float(); m=enc['attention_mask'].unsqueeze(-1).float()
        me=(h*m).sum(1)/m.sum(1); me=me/me.norm(dim=1,keepdim=True)
        mxx=(h+(m-1)*1e4).max(1).values
        mean[idx]=me.numpy(); mx[idx]=mxx.numpy()
print('embedded in %.0fs'%(time.time()-t0), flush=True)

from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler
tr=np.array([s=='train' for s in split]); va=~tr
y=np.array([r[2] for r in rows]); src=np.array([r[1] for r in rows])
# stage-1 toxicity head on the mean embedding (the product's)
h=load_file(MODELS+'/heads/stage1-heads.safetensors')
z=torch.relu(torch.tensor(mean)@h['toxicity.hidden.weight'].T+h['toxicity.hidden.bias'])@h['toxicity.out.weight'].T+h['toxicity.out.bias']
prod=z[:,0].numpy()
def fit(X,C=1.0):
    sc=StandardScaler().fit(X[tr]); Xs=sc.transform(X)
    Xt=np.concatenate([Xs[tr],Xs[tr]]); yt=np.concatenate([np.ones(tr.sum()),np.zeros(tr.sum())]); w=np.concatenate([y[tr],1-y[tr]])
    w=w*np.where(np.concatenate([src[tr],src[tr]])=='civil',3.0,1.0)
    lr=LogisticRegression(C=C,max_iter=3000).fit(Xt,yt,sample_weight=w); return lr.decision_function(Xs)
for name,s in [('product head (mean)',prod)]+[(f'LR mean C={c}',fit(mean,c)) for c in (0.1,1.0)]+[(f'LR mean+max C={c}',fit(np.hstack([mean,mx]),c)) for c in (0.1,1.0)]+[(f'LR max C={c}',fit(mx,c)) for c in (0.1,)]:
    out=[]
    for so in ('civil','cad'):
        k=va&(src==so); yy=(y[k]>=0.5).astype(int); out.append('%s %.4f (n=%d)'%(so,roc_auc_score(yy,s[k]),k.sum()))
        if so=='civil':
            k2=k&((y==0)|(y>=0.5)); out.append('civil-vs-unanimous %.4f'%roc_auc_score((y[k2]>=0.5).astype(int),s[k2]))
    print(name.ljust(24),' | '.join(out), flush=True)
