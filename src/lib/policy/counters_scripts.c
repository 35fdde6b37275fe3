/*
 * counters_scripts.c - the Lua scripts of the Redis counter store: the
 * check-and-add of one request (limits, blocks, cluster-wide alert keys,
 * the baseline), the merge of counts made during an outage, and reset.
 * They run inside Redis, atomically; counters_redis.c loads them (SCRIPT
 * LOAD) at every connection and calls them by SHA1 (EVALSHA).
 *
 * Keys (user names are bulk arguments, concatenated inside the script):
 *   rblkit:c:PERIOD:WINDOWSTART:USER  hash m (messages), r (recipients);
 *                                     expires 2 * PERIOD after its last
 *                                     change (the window and the next one,
 *                                     where it is the "previous" window)
 *   rblkit:a:CODE:KIND:PERIOD:USER    alert sent (SET NX, EX PERIOD): one
 *                                     alert per crossing for the cluster
 *   rblkit:b:USER                     "KIND:PERIOD" blocked until reset
 *   rblkit:bl:USER                    the baseline (outbound_baseline):
 *                                     hour and day start, count, EWMA mean
 *                                     and variance, last alerts; 30 days
 *
 * SECURITY: user names are script arguments (ARGV), concatenated into
 * key names inside Redis, never into the script text; numbers are the
 * daemon's own.
 */
#include "policy/counters_scripts.h"

static const char script_check[] =
	"local u=ARGV[1] local now=tonumber(ARGV[2]) local rc=tonumber(ARGV[3])\n"
	"local add=ARGV[4]=='1' local reset=ARGV[5]=='1' local nl=tonumber(ARGV[6])\n"
	"local L={} local p=7\n"
	"for i=1,nl do L[i]={tonumber(ARGV[p]),tonumber(ARGV[p+1]),tonumber(ARGV[p+2])} p=p+3 end\n"
	"local np=tonumber(ARGV[p]) p=p+1\n"
	"local blon=ARGV[p+np]=='1' local bf=tonumber(ARGV[p+np+1])\n"
	"local bmin=tonumber(ARGV[p+np+2]) local bnew=tonumber(ARGV[p+np+3])\n"
	"local function key(per,ws) return 'rblkit:c:'..per..':'..ws..':'..u end\n"
	"local function est(kind,per)\n"
	" local ws=now-now%per local f=kind==0 and 'm' or 'r'\n"
	" local c=tonumber(redis.call('HGET',key(per,ws),f) or 0)\n"
	" local q=tonumber(redis.call('HGET',key(per,ws-per),f) or 0)\n"
	" return c+math.floor(q*(per-(now-ws))/per)\n"
	"end\n"
	"if reset then\n"
	" local b=redis.call('GET','rblkit:b:'..u)\n"
	" if b then\n"
	"  local k,per=string.match(b,'^(%d+):(%d+)$')\n"
	"  if k then k=tonumber(k) per=tonumber(per) return {3,0,est(k,per),0,k,per,0,0,0} end\n"
	" end\n"
	"end\n"
	/* the baseline: hash rblkit:bl:USER, EWMA as in baseline.c */
	"local bk='rblkit:bl:'..u local B\n"
	"local function ew(x,mi,vi,a) local d=x-B[mi] B[mi]=B[mi]+a*d B[vi]=(1-a)*(B[vi]+a*d*d) end\n"
	"local function roll(si,ni,mi,vi,len,a,cap)\n"
	" local k=0\n"
	" while now-B[si]>=len do\n"
	"  if k<cap then ew(B[ni],mi,vi,a) end\n"
	"  k=k+1 B[ni]=0\n"
	"  if k<cap then B[si]=B[si]+len else B[si]=now-now%len end\n"
	" end\n"
	"end\n"
	"local function th(m,v,mn) local t=bf*(m+3*math.sqrt(math.max(v,0)))\n"
	" if t<mn then return mn end if t>4e9 then return 4e9 end return math.floor(t) end\n"
	"if blon then\n"
	" local v=redis.call('HMGET',bk,'hs','hn','hm','hv','ds','dn','dm','dv','ah','ad')\n"
	" if v[1] then B={} for j=1,10 do B[j]=tonumber(v[j]) or 0 end\n"
	" else B={now-now%3600,0,bnew,bnew*bnew,now-now%86400,0,bnew*24,bnew*bnew*576,-1,-1} end\n"
	" if now>=B[1] then roll(1,2,3,4,3600,1/168,672) end\n"
	" if now>=B[5] then roll(5,6,7,8,86400,1/14,28) end\n"
	" local th1,th2=th(B[3],B[4],bmin),th(B[7],B[8],bmin*8)\n"
	" local over,day,cnt,t,m,sv=false,0,0,0,0,0\n"
	" if B[2]+1>th1 then over,cnt,t,m,sv=true,B[2]+1,th1,B[3],B[4]\n"
	" elseif B[6]+1>th2 then over,day,cnt,t,m,sv=true,1,B[6]+1,th2,B[7],B[8] end\n"
	" if over then\n"
	"  local al=0\n"
	"  if day==0 and B[9]~=B[1] then al=1 B[9]=B[1] end\n"
	"  if day==1 and B[10]~=B[5] then al=1 B[10]=B[5] end\n"
	"  redis.call('HSET',bk,'hs',B[1],'hn',B[2],'hm',B[3],'hv',B[4],'ds',B[5],'dn',B[6],'dm',B[7],'dv',B[8],'ah',B[9],'ad',B[10])\n"
	"  redis.call('EXPIRE',bk,2592000)\n"
	"  return {4,day,cnt,al,0,day==1 and 86400 or 3600,t,math.floor(m*1000),math.floor(math.sqrt(math.max(sv,0))*1000)}\n"
	" end\n"
	"end\n"
	"local function check(m,r)\n"
	" for i=1,nl do local l=L[i] local e=est(l[1],l[3])\n"
	"  if e+(l[1]==0 and m or r)>l[2] then return i,e end end\n"
	" return 0,0\n"
	"end\n"
	"local function first(code,l)\n"
	" if redis.call('SET','rblkit:a:'..code..':'..l[1]..':'..l[3]..':'..u,now,'NX','EX',l[3]) then return 1 end\n"
	" return 0\n"
	"end\n"
	"local i,e=check(1,rc>0 and 1 or 0)\n"
	"if i>0 then local l=L[i]\n"
	" if reset then redis.call('SET','rblkit:b:'..u,l[1]..':'..l[3]) end\n"
	" return {1,i-1,e,first(1,l),l[1],l[3],0,0,0}\n"
	"end\n"
	"i,e=check(1,rc)\n"
	"if i>0 then return {2,i-1,e,first(2,L[i]),L[i][1],L[i][3],0,0,0} end\n"
	"if add then for j=0,np-1 do local per=tonumber(ARGV[p+j])\n"
	" local k=key(per,now-now%per)\n"
	" redis.call('HINCRBY',k,'m',1) redis.call('HINCRBY',k,'r',rc) redis.call('EXPIRE',k,2*per)\n"
	"end end\n"
	"if blon then\n"
	" if add then B[2]=B[2]+1 B[6]=B[6]+1 end\n"
	" redis.call('HSET',bk,'hs',B[1],'hn',B[2],'hm',B[3],'hv',B[4],'ds',B[5],'dn',B[6],'dm',B[7],'dv',B[8],'ah',B[9],'ad',B[10])\n"
	" redis.call('EXPIRE',bk,2592000)\n"
	"end\n"
	"return {0,0,0,0,0,0,0,0,0}\n";

static const char script_merge[] =
	"local u=ARGV[1] local now=tonumber(ARGV[2]) local n=tonumber(ARGV[3])\n"
	"for i=0,n-1 do local per=tonumber(ARGV[4+i*4]) local ws=tonumber(ARGV[5+i*4])\n"
	" local ttl=ws+2*per-now\n"
	" if ttl>0 then local k='rblkit:c:'..per..':'..ws..':'..u\n"
	"  redis.call('HINCRBY',k,'m',ARGV[6+i*4]) redis.call('HINCRBY',k,'r',ARGV[7+i*4])\n"
	"  redis.call('EXPIRE',k,ttl) end\n"
	"end\n"
	"return 0\n";

static const char script_reset[] =
	"local u=ARGV[1] local now=tonumber(ARGV[2]) local n=tonumber(ARGV[3])\n"
	"redis.call('DEL','rblkit:b:'..u)\n"
	"for i=0,n-1 do local per=tonumber(ARGV[4+i]) local ws=now-now%per\n"
	" redis.call('DEL','rblkit:c:'..per..':'..ws..':'..u,'rblkit:c:'..per..':'..(ws-per)..':'..u)\n"
	" for c=1,2 do for k=0,1 do redis.call('DEL','rblkit:a:'..c..':'..k..':'..per..':'..u) end end\n"
	"end\n"
	"return 0\n";

const char *const pcs_scripts[PCS_SC_N] = { script_check, script_merge, script_reset };

