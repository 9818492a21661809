#separator \x09
#set_separator	,
#empty_field	(empty)
#unset_field	-
#path	conn
#open	1970-01-01-00-00-00
#fields	ts	uid	id.orig_h	id.orig_p	id.resp_h	id.resp_p	proto	service	duration	orig_bytes	resp_bytes	conn_state	local_orig	local_resp	missed_bytes	history	orig_pkts	orig_ip_bytes	resp_pkts	resp_ip_bytes	tunnel_parents	tcplife_conn_id	tcplife_ending	tcplife_first_closer	tcplife_client_state	tcplife_server_state	tcplife_handshake_rtt
#types	time	string	addr	port	addr	port	enum	string	interval	count	count	string	bool	bool	count	string	count	count	count	count	set[string]	count	string	string	string	string	interval
1795674005.767675	CfbyHQPWGTLnK9PJ8h	127.0.0.1	54729	127.0.0.1	42181	tcp	-	0.003386	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	1	closed normally	server	CLOSED	TIME-WAIT	0.000036
1795674005.767678	CG20RfEZOKSg96loa8	127.0.0.1	51543	127.0.0.1	42181	tcp	-	0.004301	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	2	closed normally	server	CLOSED	TIME-WAIT	0.000034
1795674005.770349	CDEjbY15ZAbIKE4UpS	127.0.0.1	45679	127.0.0.1	42181	tcp	-	0.002176	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	3	closed normally	server	CLOSED	TIME-WAIT	0.000026
1795674005.770419	ClODNhuPJZOXAbQ3Ye	127.0.0.1	44187	127.0.0.1	42181	tcp	-	0.001749	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	4	closed normally	server	CLOSED	TIME-WAIT	0.000026
1795674005.770486	C5SQy3sZRqArUxUddo	127.0.0.1	38451	127.0.0.1	42181	tcp	-	0.001593	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	5	closed normally	server	CLOSED	TIME-WAIT	0.000019
1795674005.770536	CORhLaerqNOtAqeZ8O	127.0.0.1	37749	127.0.0.1	42181	tcp	-	0.001832	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	6	closed normally	server	CLOSED	TIME-WAIT	0.000015
1795674005.770601	CSDuNCeRYyNxsntovr	127.0.0.1	47011	127.0.0.1	42181	tcp	-	0.001849	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	7	closed normally	server	CLOSED	TIME-WAIT	0.000022
1795674005.770651	CRSPszNImqPt2Nj1xn	127.0.0.1	57131	127.0.0.1	42181	tcp	-	0.002815	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	8	closed normally	server	CLOSED	TIME-WAIT	0.000027
1795674005.770666	CBKHjv7Py3m8FxOno8	127.0.0.1	58689	127.0.0.1	42181	tcp	-	0.003490	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	9	closed normally	server	CLOSED	TIME-WAIT	0.000017
1795674005.770722	CCQmSkE6qw9O30Cxra	127.0.0.1	53281	127.0.0.1	42181	tcp	-	0.002832	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	10	closed normally	server	CLOSED	TIME-WAIT	0.000015
1795674005.770775	CTkFqFIJ3WxmvtXPhq	127.0.0.1	41387	127.0.0.1	42181	tcp	-	0.002867	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	11	closed normally	server	CLOSED	TIME-WAIT	0.000020
1795674005.770832	CL929yukWy8UoroicY	127.0.0.1	36055	127.0.0.1	42181	tcp	-	0.002898	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	12	closed normally	server	CLOSED	TIME-WAIT	0.000019
1795674005.770934	CaSjNtVdrrn0w9JvnK	127.0.0.1	38493	127.0.0.1	42181	tcp	-	0.002897	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	13	closed normally	server	CLOSED	TIME-WAIT	0.000021
1795674005.770986	CRsBLTAceLYWDFbsRF	127.0.0.1	57903	127.0.0.1	42181	tcp	-	0.003567	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	14	closed normally	server	CLOSED	TIME-WAIT	0.000018
1795674005.771082	CR6Bt9ak090VcGwQrm	127.0.0.1	37339	127.0.0.1	42181	tcp	-	0.003888	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	15	closed normally	server	CLOSED	TIME-WAIT	0.000017
1795674005.771110	CxTq2mNUyvCoTfOgO2	127.0.0.1	35247	127.0.0.1	42181	tcp	-	0.003677	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	16	closed normally	server	CLOSED	TIME-WAIT	0.000022
1795674005.771243	CBXbxibZTnSoXyt8G4	127.0.0.1	57083	127.0.0.1	42181	tcp	-	0.003802	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	17	closed normally	server	CLOSED	TIME-WAIT	0.000028
1795674005.771637	CXKUIOLepTp4ubPy6J	127.0.0.1	51621	127.0.0.1	42181	tcp	-	0.003104	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	18	closed normally	server	CLOSED	TIME-WAIT	0.000023
1795674005.771713	CsiC6RLgwt3OQJdS9m	127.0.0.1	57283	127.0.0.1	42181	tcp	-	0.006720	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	19	closed normally	server	CLOSED	TIME-WAIT	0.000015
1795674005.771767	Cu8P1i7a947bpmfUmf	127.0.0.1	48501	127.0.0.1	42181	tcp	-	0.006766	0	12	SF	-	-	0	ShAdfFa	4	216	4	228	-	20	closed normally	server	CLOSED	TIME-WAIT	0.000020
#close	1970-01-01-00-00-00
