// Kiln's textual graph format (MLIR-flavoured). One node per line, in topological order:
//
//   graph two_layer {
//     %x  = Placeholder() {dtype = f32, shape = [?,1000]} : f32[?,1000]
//     %w1 = Variable(%w1/init) : f32[1000,100]
//     %h  = MatMul(%x, %w1) {transpose_a = false} : f32[?,100]
//     %i  = NoOp(^%w1/Assign) @"/cpu:0" : ()
//   }
//
// The parser only checks syntax; GraphParser (dev.kiln.graph) resolves names, builds the nodes
// through the op registry and checks the declared types against inference.
grammar Kiln;

file       : 'graph' name? '{' node* '}' EOF ;

node       : def=REF '=' opType=ID '(' (operand (',' operand)*)? ')' attrDict? device?
             (':' resultTypes)? subgraph* ;
operand    : REF          # dataOperand
           | '^' REF      # controlOperand
           ;
attrDict   : '{' (attr (',' attr)*)? '}' ;
attr       : name '=' value ;
device     : '@' STRING ;
resultTypes: tensorType
           | '(' (tensorType (',' tensorType)*)? ')'
           ;
subgraph   : 'subgraph' '(' (params+=REF (',' params+=REF)*)? ')'
             '->' '(' (results+=REF (',' results+=REF)*)? ')' '{' node* '}' ;

tensorType : ID shape ;
shape      : '[' (star='*' | dim (',' dim)*)? ']' ;
dim        : INT | '?' ;

value      : INT                                          # intValue
           | FLOAT                                        # floatValue
           | STRING                                       # stringValue
           | ID                                           # wordValue
           | shape                                        # shapeValue
           | 'array' '<' (INT (',' INT)*)? '>'            # intListValue
           | 'dense' '<' tensorType '>' (denseList | STRING) # tensorValue
           ;
denseList  : '[' (scalar (',' scalar)*)? ']' ;
scalar     : INT | FLOAT | ID ;

// Keywords are reserved only where a keyword can stand; as names they are allowed.
name       : ID | STRING | 'graph' | 'subgraph' | 'array' | 'dense' ;

REF        : '%' [A-Za-z0-9_.\-/]+ (':' [0-9]+)? ;
FLOAT      : '-'? DIGITS '.' DIGITS EXPONENT?
           | '-'? DIGITS EXPONENT
           | '-inf'
           ;
INT        : '-'? DIGITS ;
ID         : [A-Za-z_] [A-Za-z0-9_]* ;
STRING     : '"' (~["\\\r\n] | '\\' ~[\r\n])* '"' ;
// Lexing never fails: bad input becomes a token the parser rejects, so the first error in the
// file is the one reported, whether it is lexical or syntactic.
UNTERMINATED_STRING : '"' (~["\\\r\n] | '\\' ~[\r\n])* ;
LINE_COMMENT : '//' ~[\r\n]* -> skip ;
WS         : [ \t\r\n]+ -> skip ;
BAD_CHAR   : . ;

fragment DIGITS   : [0-9]+ ;
fragment EXPONENT : [eE] [+-]? DIGITS ;
